const unitSeconds = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 } as const;

/** "500ms", "90s", "15m", "12h", "30d" → seconds; null when malformed (or zero, unless `allowZero`). */
export function parseDurationSeconds(text: string, allowZero = false): number | null {
  const match = /^(\d+)\s*(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) return null;
  const seconds = Number(match[1]) * unitSeconds[match[2] as keyof typeof unitSeconds];
  return seconds > 0 || allowZero ? seconds : null;
}
