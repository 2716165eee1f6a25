// Concurrent streams: 8 bulk transfers over 8 public mappings and over one, plain and TLS, through relay threads,
// through the control thread relaying (relayThreads 0) and through HAProxy with one thread per core, interleaved.
import type { Profile } from "../lib/profile.ts";
import { Series } from "../lib/series.ts";
import { fmt, type Check, type Section } from "../report/model.ts";
import { measureThroughput, type Run } from "./throughput.ts";
import { HAPROXY_THREADS, type World } from "./world.ts";

type Way = "haproxy" | "threads-spread" | "threads-one" | "inproc-spread" | "inproc-one";
const WAYS: Way[] = ["haproxy", "threads-spread", "inproc-spread", "threads-one", "inproc-one"];
const key = (way: Way, tls: boolean) => `${way}|${tls ? "tls" : "plain"}`;

const NAMES: Record<Way, string> = {
  haproxy: `HAProxy 2.6, ${HAPROXY_THREADS} threads`,
  "threads-spread": "Connector, relay threads: 8 mappings",
  "inproc-spread": "Connector, relayThreads 0: 8 mappings",
  "threads-one": "Connector, relay threads: one mapping",
  "inproc-one": "Connector, relayThreads 0: one mapping",
};

export async function runStreams(worlds: { threads: World; inproc: World }, profile: Profile, log: (line: string) => void): Promise<Section> {
  const { reps, bytesPerRun, streams } = profile.streams;
  const series = new Series<Run>();
  for (let rep = 0; rep < reps; rep++) {
    for (const tls of [false, true]) {
      const line: string[] = [];
      for (const way of WAYS) {
        const world = way.startsWith("inproc") ? worlds.inproc : worlds.threads;
        const path = way === "haproxy" ? "haproxy" : "public";
        const run = await measureThroughput(world, path, tls, streams, bytesPerRun, way.endsWith("spread") ? 1 : streams);
        series.add(key(way, tls), run);
        line.push(`${way} ${fmt(run.gbps)}`);
      }
      log(`streams rep ${rep + 1}/${reps}, ${streams} streams, ${tls ? "TLS" : "plain"}: ${line.join(", ")} GB/s`);
    }
  }
  const rows: string[][] = [];
  const checks: Check[] = [];
  const gbps = (r: Run) => r.gbps;
  for (const tls of [false, true]) {
    for (const way of WAYS) {
      const k = key(way, tls);
      const [lo, hi] = series.range(k, gbps);
      const before = way.startsWith("threads") ? fmt(series.ratio(k, key(way.replace("threads", "inproc") as Way, tls), gbps)) : "–";
      rows.push([NAMES[way], tls ? "TLS" : "plain", `${fmt(series.median(k, gbps))} (${fmt(lo)}–${fmt(hi)})`, way === "haproxy" ? "–" : fmt(series.ratio(k, key("haproxy", tls), gbps)), before, fmt(series.median(k, (r) => r.relayCores))]);
    }
    const legs = tls ? "TLS" : "plaintext";
    checks.push({ what: `${streams} streams over ${streams} mappings, ${legs}, relay threads ÷ HAProxy`, value: series.ratio(key("threads-spread", tls), key("haproxy", tls), gbps), limit: 1.3, kind: "min", unit: "×" });
    checks.push({ what: `${streams} streams over one mapping, ${legs}, relay threads ÷ relayThreads 0`, value: series.ratio(key("threads-one", tls), key("inproc-one", tls), gbps), limit: 1.0, kind: "min", unit: "×" });
  }
  return {
    title: `Concurrent streams: ${streams} over ${streams} mappings and over one`,
    head: ["path", "legs", "GB/s median (min–max)", "× HAProxy", "× relayThreads 0", "relay cores busy"],
    rows,
    notes: [
      `${reps} interleaved repetitions of ${bytesPerRun / 2 ** 30} GiB per configuration over ${streams} connections; ratios are medians of per-repetition ratios. ` +
        "One mapping lives on one relay thread, so its streams share that thread; 8 mappings spread over the threads (the fewest first).",
    ],
    checks,
    raw: series.toJSON(),
  };
}
