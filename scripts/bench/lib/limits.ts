// Descriptor limits: the daemon and the generators run with the soft limit raised to the hard one (20,000 here).
import { readFileSync } from "node:fs";

/** The hard limit on open files of this process. */
export function hardNofile(): number {
  const line = readFileSync("/proc/self/limits", "utf8").split("\n").find((l) => l.startsWith("Max open files"));
  const hard = line?.trim().split(/\s+/)[4];
  return hard === undefined || hard === "unlimited" ? 1_048_576 : Number(hard);
}

/** A command prefix that runs the rest with the soft descriptor limit at the hard limit. */
export function nofileWrap(): string[] {
  if (!Bun.which("prlimit")) return [];
  const hard = hardNofile();
  return ["prlimit", `--nofile=${hard}:${hard}`, "--"];
}
