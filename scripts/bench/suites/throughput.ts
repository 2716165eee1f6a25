// Bulk throughput, 1 and 8 streams, plain and TLS: direct (the generators' own ceiling), HAProxy, and the Connector's two pipes.
import { startGen, type Gen } from "../lib/gen.ts";
import { cpuSeconds } from "../lib/proc.ts";
import type { Profile } from "../lib/profile.ts";
import { quiet } from "../lib/quiet.ts";
import { Series } from "../lib/series.ts";
import { fmt, type Check, type Section } from "../report/model.ts";
import { openEnds, PATHS, type PathName } from "./paths.ts";
import { HAPROXY_THREADS, type World } from "./world.ts";

export interface Run {
  gbps: number;
  relayCpuPerGB: number;
  /** Cores the relay process kept busy while the bytes moved. */
  relayCores: number;
  sourceCpu: number;
  sinkCpu: number;
}

const MiB = 2 ** 20;
const key = (path: PathName, tls: boolean, streams: number) => `${path}|${tls ? "tls" : "plain"}|${streams}`;

export async function runThroughput(world: World, profile: Profile, log: (line: string) => void): Promise<Section> {
  const { reps, bytesPerRun, streams: streamCounts } = profile.throughput;
  const series = new Series<Run>();
  for (let rep = 0; rep < reps; rep++) {
    for (const streams of streamCounts) {
      for (const tls of [false, true]) {
        const line: string[] = [];
        for (const path of PATHS) {
          const run = await measureThroughput(world, path, tls, streams, bytesPerRun);
          series.add(key(path, tls, streams), run);
          line.push(`${path} ${fmt(run.gbps)}`);
        }
        log(`throughput rep ${rep + 1}/${reps}, ${streams} stream(s), ${tls ? "TLS" : "plain"}: ${line.join(", ")} GB/s`);
      }
    }
  }
  return report(series, profile);
}

/** One bulk transfer of `bytes` over `streams` connections through `path`. */
export async function measureThroughput(world: World, path: PathName, tls: boolean, streams: number, bytes: number, perMapping = streams): Promise<Run> {
  const ends = await openEnds(world, path, tls, streams, perMapping);
  const budgetMs = 30_000 + (bytes / 50e6) * 1000; // even 50 MB/s finishes in time
  let source: Gen | undefined;
  const sink = startGen({ role: "sink", ...ends.receive, tls, tlsFiles: world.certs, expectBytes: bytes }, budgetMs + 10_000);
  try {
    await sink.next("ready", 20_000);
    await quiet(0.15, 1500);
    const cpu0 = ends.relayPid === undefined ? 0 : cpuSeconds(ends.relayPid);
    const t0 = performance.now();
    source = startGen({ role: "source", targets: ends.send, tls, bytesPerStream: bytes / streams, chunkBytes: MiB }, budgetMs + 10_000);
    const [sent, got] = await Promise.all([source.next("done", budgetMs), sink.next("done", budgetMs)]);
    const relayCpu = ends.relayPid === undefined ? Number.NaN : cpuSeconds(ends.relayPid) - cpu0;
    const window = (performance.now() - t0) / 1000;
    const seconds = got.seconds as number;
    const gb = (got.bytes as number) / 1e9;
    return { gbps: gb / seconds, relayCpuPerGB: relayCpu / gb, relayCores: relayCpu / window, sourceCpu: (sent.cpu as number) / (sent.seconds as number), sinkCpu: (got.cpu as number) / seconds };
  } finally {
    await Promise.all([sink.stop(), source?.stop()]);
    await ends.release();
  }
}

function report(series: Series<Run>, profile: Profile): Section {
  const rows: string[][] = [];
  const checks: Check[] = [];
  const gbps = (r: Run) => r.gbps;
  for (const streams of profile.throughput.streams) {
    for (const tls of [false, true]) {
      for (const path of PATHS) {
        const k = key(path, tls, streams);
        const [lo, hi] = series.range(k, gbps);
        rows.push([
          path === "direct" ? "direct (generator ceiling)" : path === "haproxy" ? `HAProxy 2.6, ${HAPROXY_THREADS} threads` : `Connector ${path} pipe`,
          String(streams),
          tls ? "TLS" : "plain",
          `${fmt(series.median(k, gbps))} (${fmt(lo)}–${fmt(hi)})`,
          fmt(series.ratio(k, key("direct", tls, streams), gbps)),
          path === "direct" ? "–" : fmt(series.ratio(k, key("haproxy", tls, streams), gbps)),
          fmt(series.median(k, (r) => r.relayCpuPerGB), 3),
          fmt(series.median(k, (r) => r.relayCores)),
          `${fmt(series.median(k, (r) => r.sourceCpu * 100), 0)}% / ${fmt(series.median(k, (r) => r.sinkCpu * 100), 0)}%`,
        ]);
      }
      for (const path of ["public", "private"] as const) {
        const ratio = series.ratio(key(path, tls, streams), key("haproxy", tls, streams), gbps);
        const limit = streams === 1 ? (tls ? 1.2 : 1.1) : 1.0;
        checks.push({ what: `${streams}-stream ${tls ? "TLS" : "plaintext"} throughput, ${path} pipe ÷ HAProxy`, value: ratio, limit, kind: "min", unit: "×" });
      }
    }
  }
  return {
    title: "Throughput",
    head: ["path", "streams", "legs", "GB/s median (min–max)", "× direct", "× HAProxy", "relay CPU s/GB", "relay cores busy", "sender / receiver CPU"],
    rows,
    notes: [
      `${profile.throughput.reps} interleaved repetitions of ${profile.throughput.bytesPerRun / 2 ** 30} GiB per configuration; ratios are medians of per-repetition ratios. Relay cores busy: the relay process's CPU time over the run's wall time (HAProxy and relay threads may use every core); sender / receiver CPU: the generators' own share of a core.`,
    ],
    checks,
    raw: series.toJSON(),
  };
}
