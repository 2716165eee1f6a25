// Control plane: mapping/add and mapping/remove latency with 0, 1,000 and 9,000 mappings present, as the state file grows.
import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { pool as makePool } from "../lib/ports.ts";
import type { Profile, DaemonSuiteOptions } from "../lib/profile.ts";
import { Series } from "../lib/series.ts";
import { quantileSorted } from "../lib/stats.ts";
import { fmt, kib, type Check, type Section } from "../report/model.ts";
import { startConnector, stateFileOf } from "../targets/connector.ts";
import { writeStateFile } from "../targets/state-file.ts";
import { quiet } from "../lib/quiet.ts";

interface Run {
  add: number[];
  remove: number[];
  stateBytes: number;
}

export async function runControl(options: DaemonSuiteOptions, profile: Profile, log: (line: string) => void): Promise<Section> {
  const { reps, cycles, sizes } = profile.control;
  const series = new Series<Run>();
  for (let rep = 0; rep < reps; rep++) {
    for (const size of sizes) {
      await quiet(0.15, 1500);
      const run = await cycleOnce(options, join(options.dir, `control-${size}-${rep}`), size, cycles);
      series.add(String(size), run);
      log(`control plane rep ${rep + 1}/${reps}, ${size} mappings: add p50 ${fmt(q(run.add, 0.5))} ms, remove p50 ${fmt(q(run.remove, 0.5))} ms`);
    }
  }
  const rows: string[][] = [];
  const checks: Check[] = [];
  for (const size of sizes) {
    const runs = series.all(String(size));
    const add = runs.flatMap((r) => r.add);
    const remove = runs.flatMap((r) => r.remove);
    rows.push([String(size), kib(runs[0]?.stateBytes ?? Number.NaN, 0), fmt(q(add, 0.5)), fmt(q(add, 0.99)), fmt(q(remove, 0.5)), fmt(q(remove, 0.99)), String(add.length)]);
    if (size === Math.max(...sizes)) checks.push({ what: `mapping/add p99 with ${size} mappings present`, value: q(add, 0.99), limit: 5, kind: "max", unit: "ms" });
  }
  // Flat: the most mappings present against none, per call (the state file must not make a change slower as it grows).
  const [fewest, most] = [String(Math.min(...sizes)), String(Math.max(...sizes))];
  for (const call of ["add", "remove"] as const) {
    const p99 = (size: string) => q(series.all(size).flatMap((r) => r[call]), 0.99);
    checks.push({ what: `mapping/${call} p99 with ${most} mappings ÷ with ${fewest}`, value: p99(most) / p99(fewest), limit: 1.5, kind: "max", unit: "×" });
  }
  return {
    title: "Control plane",
    head: ["mappings present", "configs.json, KiB", "add p50 ms", "add p99 ms", "remove p50 ms", "remove p99 ms", "samples"],
    rows,
    notes: [
      `Each call timed at the client (HTTP keep-alive, loopback): ${cycles} add-then-remove cycles per start, ${reps} start(s) per size, interleaved; percentiles over all samples. Every call waits for its record's fdatasync in the state file's journal.`,
    ],
    checks,
    raw: series.toJSON(),
  };
}

async function cycleOnce(options: DaemonSuiteOptions, dir: string, size: number, cycles: number): Promise<Run> {
  mkdirSync(dir, { recursive: true });
  const pool = makePool(...options.pool);
  writeStateFile(stateFileOf(dir), pool, { mappings: size, maxConnections: 60, heartbeatThreshold: 200_000 });
  const connector = await startConnector({ exe: options.exe, dir, pool });
  try {
    const add: number[] = [];
    const remove: number[] = [];
    for (let i = 0; i < cycles; i++) {
      const t0 = performance.now();
      const mapping = await connector.api.addPublic(60);
      const t1 = performance.now();
      await connector.api.remove(mapping.id);
      remove.push(performance.now() - t1);
      add.push(t1 - t0);
    }
    return { add, remove, stateBytes: statSync(connector.stateFile).size };
  } finally {
    await connector.stop();
  }
}

function q(values: number[], quantile: number): number {
  return quantileSorted([...values].sort((a, b) => a - b), quantile);
}
