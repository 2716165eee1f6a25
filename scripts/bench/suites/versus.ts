// This build against a baseline build in one interleaved run: public-pipe throughput and latency, plain and TLS, and idle TLS memory.
import { join } from "node:path";
import type { Profile } from "../lib/profile.ts";
import { Series } from "../lib/series.ts";
import type { CertFiles } from "../lib/tls-cert.ts";
import { fmt, kib, type Check, type Section } from "../report/model.ts";
import { measureIdle } from "./idle.ts";
import { measureLatency } from "./latency.ts";
import { measureThroughput } from "./throughput.ts";
import type { World } from "./world.ts";

export interface VersusOptions {
  exe: string;
  baselineExe: string;
  /** What the baseline is, for the report (a git revision). */
  baselineName: string;
  dir: string;
  pool: [number, number];
  certs: CertFiles;
}

type Build = "this" | "baseline";
const BUILDS: Build[] = ["this", "baseline"];
const CASES = [
  { tls: true, streams: 1 },
  { tls: true, streams: 8 },
  { tls: false, streams: 1 },
  { tls: false, streams: 8 },
];
const legs = (tls: boolean) => (tls ? "TLS" : "plain");

export async function runVersus(worlds: Record<Build, World>, options: VersusOptions, profile: Profile, log: (line: string) => void): Promise<Section> {
  const { reps, bytesPerRun, idleAgents } = profile.versus;
  const gbps = new Series<{ gbps: number }>();
  const rtt = new Series<{ p50: number; p99: number }>();
  for (let rep = 0; rep < reps; rep++) {
    // Alternate which build goes first, so neither always runs on a warmer machine.
    const order = rep % 2 === 0 ? BUILDS : [...BUILDS].reverse();
    for (const { tls, streams } of CASES) {
      for (const build of order) gbps.add(`${build}|${tls}|${streams}`, await measureThroughput(worlds[build], "public", tls, streams, bytesPerRun));
      log(`versus rep ${rep + 1}/${reps}, ${streams} stream(s) ${legs(tls)}: this ${fmt(gbps.all(`this|${tls}|${streams}`).at(-1)!.gbps)}, baseline ${fmt(gbps.all(`baseline|${tls}|${streams}`).at(-1)!.gbps)} GB/s`);
    }
    for (const tls of [false, true]) for (const build of order) rtt.add(`${build}|${tls}`, await measureLatency(worlds[build], "public", tls, profile));
  }
  const idle: Record<Build, number> = { this: 0, baseline: 0 };
  for (const build of BUILDS) {
    const exe = build === "this" ? options.exe : options.baselineExe;
    const cost = await measureIdle({ exe, dir: join(options.dir, `versus-idle-${build}`), pool: options.pool }, { agents: idleAgents, perMapping: 60, beatMs: 20_000, tls: options.certs });
    idle[build] = cost.perConn;
    log(`versus idle TLS, ${build}: ${kib(cost.perConn, 2)} KiB per connection`);
  }

  const rows: string[][] = [];
  const checks: Check[] = [];
  for (const { tls, streams } of CASES) {
    const ratio = gbps.ratio(`this|${tls}|${streams}`, `baseline|${tls}|${streams}`, (r) => r.gbps);
    rows.push([`public pipe, ${streams} stream(s), ${legs(tls)}, GB/s`, fmt(gbps.median(`this|${tls}|${streams}`, (r) => r.gbps)), fmt(gbps.median(`baseline|${tls}|${streams}`, (r) => r.gbps)), fmt(ratio)]);
    checks.push({ what: `${streams}-stream ${legs(tls)} public pipe, this build ÷ baseline`, value: ratio, limit: tls ? 0.9 : 0.95, kind: "min", unit: "×" });
  }
  for (const tls of [false, true]) {
    for (const q of ["p50", "p99"] as const) {
      const ratio = rtt.ratio(`this|${tls}`, `baseline|${tls}`, (r) => r[q]);
      rows.push([`public pipe round trip ${q}, ${legs(tls)}, µs`, fmt(rtt.median(`this|${tls}`, (r) => r[q]), 0), fmt(rtt.median(`baseline|${tls}`, (r) => r[q]), 0), fmt(ratio)]);
      if (q === "p50") checks.push({ what: `round trip p50 ${legs(tls)}, this build ÷ baseline`, value: ratio, limit: 1.1, kind: "max", unit: "×" });
    }
  }
  const idleRatio = idle.this / idle.baseline;
  rows.push([`RSS per idle TLS agent connection, KiB`, kib(idle.this, 2), kib(idle.baseline, 2), fmt(idleRatio)]);
  checks.push({ what: "RSS per idle TLS agent connection, this build ÷ baseline", value: idleRatio, limit: 1.1, kind: "max", unit: "×" });
  return {
    title: `This build against ${options.baselineName}`,
    head: ["measure", "this build", options.baselineName, "this ÷ baseline"],
    rows,
    notes: [
      `${reps} interleaved repetitions of ${bytesPerRun / 2 ** 30} GiB per transfer and one ping-pong run per repetition, the two builds alternating which goes first; ratios are medians of per-repetition ratios. Idle memory: ${idleAgents} TLS agent connections on each build, RSS slope between ${idleAgents / 8} and ${idleAgents}.`,
    ],
    checks,
    raw: { gbps: gbps.toJSON(), rtt: rtt.toJSON(), idle },
  };
}
