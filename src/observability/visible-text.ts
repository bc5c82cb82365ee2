/**
 * The text in double quotes, with every character a terminal would not show as itself (controls,
 * format characters, separators, invisible ones, any space but " ") written as `\u{…}`, and `\`
 * and `"` escaped: what is printed is unambiguous.
 */
export function quotedVisible(text: string): string {
  const escaped = text.replace(/["\\]|\p{Default_Ignorable_Code_Point}|[^\p{L}\p{M}\p{N}\p{P}\p{S} ]/gu, (character) =>
    character === "\\" || character === '"'
      ? `\\${character}`
      : `\\u{${character.codePointAt(0)!.toString(16).padStart(4, "0")}}`,
  );
  return `"${escaped}"`;
}
