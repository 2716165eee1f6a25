// Markdown for the terminal and results.md (the README's Performance section is taken from it): machine, command, one table per section, then every target met or missed.
import type { Machine } from "./machine.ts";
import { fmt, met, type Section } from "./model.ts";

export function renderTable(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

export interface RunInfo {
  machine: Machine;
  command: string;
  profile: string;
  startedAt: Date;
  seconds: number;
  /** Measurements that began while other processes kept the machine busy. */
  busyStarts: number;
  starts: number;
}

export function renderReport(info: RunInfo, sections: Section[], failures: string[]): string {
  const m = info.machine;
  const out: string[] = [
    `Measured ${info.startedAt.toISOString().slice(0, 16).replace("T", " ")} UTC with \`${info.command}\` (${info.profile} run, ${fmt(info.seconds / 60, 1)} min).`,
    "",
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, Linux ${m.kernel}. ` +
      `Connector: ${m.connector} (Bun ${m.bun}, commit ${m.commit}). Baseline: ${m.haproxy}, ${m.openssl}.`,
    "",
    info.busyStarts === 0
      ? `Every one of the ${info.starts} measurements began on a quiet machine (under 15% CPU busy).`
      : `${info.busyStarts} of ${info.starts} measurements began while other processes kept the machine over 15% busy (each waited up to 1.5 s, 10 s before a suite, for quiet, then went ahead): expect more spread.`,
  ];
  for (const section of sections) {
    out.push("", `### ${section.title}`, "", renderTable(section.head, section.rows));
    for (const note of section.notes) out.push("", note);
  }
  const checks = sections.flatMap((s) => s.checks);
  if (checks.length > 0) {
    out.push("", "### Targets", "", renderTable(
      ["target", "measured", "limit", "result"],
      checks.map((c) => [c.what, `${fmt(c.value, c.unit === "×" ? 3 : 2)} ${c.unit}`, `${c.kind === "min" ? "≥" : "≤"} ${c.limit} ${c.unit}`, met(c) ? "met" : "**missed**"]),
    ));
  }
  for (const failure of failures) out.push("", `**Failed:** ${failure}`);
  return `${out.join("\n")}\n`;
}
