import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

export interface Goal {
  /** "≈": within `tolerance` of `target`, either side. */
  comparison: "≥" | "≤" | "=" | "≈";
  target: number;
  tolerance?: number;
}

export interface Figure {
  id: string;
  label: string;
  value: number;
  goal: Goal;
  /** The measurements the value is made of, for the reader. */
  basis: string;
}

export interface Row extends Figure {
  holds: boolean;
}

function holds(value: number, { comparison, target, tolerance = 0 }: Goal): boolean {
  if (comparison === "≥") return value >= target;
  if (comparison === "≤") return value <= target;
  if (comparison === "≈") return Math.abs(value - target) <= tolerance;
  return value === target;
}

function formatGoal({ comparison, target, tolerance }: Goal): string {
  return comparison === "≈" ? `${target} ± ${tolerance ?? 0}` : `${comparison} ${target}`;
}

export function toRows(figures: Figure[]): Row[] {
  return figures.map((figure) => ({ ...figure, holds: holds(figure.value, figure.goal) }));
}

function formatValue(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

/** A Markdown table, readable in a terminal and pasteable into the README. */
export function formatTable(rows: Row[]): string {
  const lines = [
    ["figure", "value", "goal", "holds", "from"],
    ...rows.map((row) => [
      row.label,
      formatValue(row.value),
      formatGoal(row.goal),
      row.holds ? "yes" : "**no**",
      row.basis,
    ]),
  ];
  const widths = lines[0]!.map((_, column) => Math.max(...lines.map((line) => line[column]!.length)));
  const render = (cells: string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(" | ")} |`;
  return [render(lines[0]!), render(widths.map((width) => "-".repeat(width))), ...lines.slice(1).map(render)].join(
    "\n",
  );
}

/** Writes the run under bench/results/ (git-ignored); returns the file's path. */
export async function writeResults(
  directory: string,
  results: { startedAt: Date; quick: boolean } & Record<string, unknown>,
): Promise<string> {
  await mkdir(directory, { recursive: true });
  const stamp = results.startedAt.toISOString().replace(/[:.]/g, "-");
  const file = path.join(directory, `${stamp}${results.quick ? "-quick" : ""}.json`);
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
  return file;
}
