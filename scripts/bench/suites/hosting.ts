// What hosting the relay on threads costs one connection: a single stream and a 64-byte round trip through a public
// mapping, with relay threads and with the control thread relaying (relayThreads 0, as 2.0.0), interleaved.
import type { Profile } from "../lib/profile.ts";
import { Series } from "../lib/series.ts";
import { quantileSorted } from "../lib/stats.ts";
import { fmt, type Check, type Section } from "../report/model.ts";
import { measureLatency } from "./latency.ts";
import { measureThroughput } from "./throughput.ts";
import type { World } from "./world.ts";

interface Run {
  gbps: number;
  p50: number;
  p99: number;
}

const MODES = [["threads", "relay threads (default)"], ["inproc", "relayThreads 0 (as 2.0.0)"]] as const;
const key = (mode: string, tls: boolean) => `${mode}|${tls ? "tls" : "plain"}`;

export async function runHosting(worlds: { threads: World; inproc: World }, profile: Profile, log: (line: string) => void): Promise<Section> {
  const { reps, bytesPerRun } = profile.streams;
  const series = new Series<Run>();
  for (let rep = 0; rep < reps; rep++) {
    for (const tls of [false, true]) {
      for (const [mode] of MODES) {
        const world = worlds[mode];
        const stream = await measureThroughput(world, "public", tls, 1, bytesPerRun / 2);
        const rtt = await measureLatency(world, "public", tls, profile);
        series.add(key(mode, tls), { gbps: stream.gbps, p50: rtt.p50, p99: quantileSorted(rtt.samples, 0.99) });
        log(`hosting rep ${rep + 1}/${reps}, ${mode}, ${tls ? "TLS" : "plain"}: 1 stream ${fmt(stream.gbps)} GB/s, round trip p50 ${fmt(rtt.p50, 0)} µs, p99 ${fmt(rtt.p99, 0)} µs`);
      }
    }
  }
  const rows: string[][] = [];
  const checks: Check[] = [];
  for (const tls of [false, true]) {
    const legs = tls ? "TLS" : "plain";
    for (const [mode, name] of MODES) {
      const k = key(mode, tls);
      rows.push([name, legs, fmt(series.median(k, (r) => r.gbps)), fmt(series.median(k, (r) => r.p50), 0), fmt(series.median(k, (r) => r.p99), 0)]);
    }
    const ratio = (pick: (r: Run) => number) => series.ratio(key("threads", tls), key("inproc", tls), pick);
    checks.push({ what: `single stream (${legs}), relay threads ÷ relayThreads 0`, value: ratio((r) => r.gbps), limit: 1.0, kind: "min", unit: "×" });
    checks.push({ what: `round-trip p99 (${legs}), relay threads ÷ relayThreads 0`, value: ratio((r) => r.p99), limit: 1.0, kind: "max", unit: "×" });
  }
  return {
    title: "One connection through a relay thread and through the control thread",
    head: ["relay", "legs", "1 stream GB/s", "round trip p50 µs", "round trip p99 µs"],
    rows,
    notes: [
      `${reps} interleaved repetition(s): ${bytesPerRun / 2 ** 31} GiB over one public mapping, then ${profile.latency.count} round trips of ${profile.latency.size} bytes; ` +
        "medians over repetitions, ratios medians of per-repetition ratios.",
    ],
    checks,
    raw: series.toJSON(),
  };
}
