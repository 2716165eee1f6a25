// What a suite hands back: a table of figures, notes on what limits them, and the targets checked against them.

export interface Check {
  what: string;
  /** The measured figure, in `unit`. */
  value: number;
  limit: number;
  /** "min": the value must be at least the limit; "max": at most. */
  kind: "min" | "max";
  unit: string;
}

export interface Section {
  title: string;
  head: string[];
  rows: string[][];
  notes: string[];
  checks: Check[];
  /** Raw per-run figures for results.json. */
  raw: unknown;
}

export const met = (check: Check) => (check.kind === "min" ? check.value >= check.limit : check.value <= check.limit);

/** Fixed-precision number, "–" when not a number. */
export function fmt(value: number, digits = 2): string {
  return Number.isFinite(value) ? value.toFixed(digits) : "–";
}

export function kib(bytes: number, digits = 1): string {
  return fmt(bytes / 1024, digits);
}

export function mb(bytes: number, digits = 1): string {
  return fmt(bytes / 1e6, digits);
}
