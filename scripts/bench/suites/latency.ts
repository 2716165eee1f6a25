// Round-trip latency of 64-byte request/response through each path, plain and TLS, and what each path adds to direct.
import { startGen, type Gen } from "../lib/gen.ts";
import type { Profile } from "../lib/profile.ts";
import { quiet } from "../lib/quiet.ts";
import { Series } from "../lib/series.ts";
import { quantileSorted } from "../lib/stats.ts";
import { fmt, type Check, type Section } from "../report/model.ts";
import { openEnds, PATHS, type PathName } from "./paths.ts";
import { HAPROXY_THREADS, type World } from "./world.ts";

interface Run {
  p50: number;
  p99: number;
  p999: number;
  /** Round trips in µs, sorted. */
  samples: Float64Array;
}

const QUANTILES = ["p50", "p99", "p999"] as const;
type Quantile = (typeof QUANTILES)[number];
const key = (path: PathName, tls: boolean) => `${path}|${tls ? "tls" : "plain"}`;

export async function runLatency(world: World, profile: Profile, log: (line: string) => void): Promise<Section> {
  const series = new Series<Run>();
  for (let rep = 0; rep < profile.latency.reps; rep++) {
    for (const tls of [false, true]) {
      const line: string[] = [];
      for (const path of PATHS) {
        const run = await measureLatency(world, path, tls, profile);
        series.add(key(path, tls), run);
        line.push(`${path} ${fmt(run.p50, 0)}/${fmt(run.p99, 0)}/${fmt(run.p999, 0)}`);
      }
      log(`latency rep ${rep + 1}/${profile.latency.reps}, ${tls ? "TLS" : "plain"} p50/p99/p99.9 µs: ${line.join(", ")}`);
    }
  }
  return report(series, profile);
}

/** One ping-pong run of 64-byte round trips through `path`. */
export async function measureLatency(world: World, path: PathName, tls: boolean, profile: Profile): Promise<Run> {
  const { warmup, count, size } = profile.latency;
  const ends = await openEnds(world, path, tls, 1);
  const budgetMs = 30_000 + (warmup + count) * 2; // even 2 ms a round trip finishes in time
  let ping: Gen | undefined;
  const echo = startGen({ role: "echo", ...ends.receive, tls, tlsFiles: world.certs }, budgetMs + 10_000);
  try {
    await echo.next("ready", 20_000);
    await quiet(0.15, 1500);
    ping = startGen({ role: "ping", target: ends.send[0]!, tls, size, warmup, count }, budgetMs + 10_000);
    const done = await ping.next("done", budgetMs);
    const samples = Float64Array.from(done.samples as number[], (v) => v / 10).sort();
    return { p50: quantileSorted(samples, 0.5), p99: quantileSorted(samples, 0.99), p999: quantileSorted(samples, 0.999), samples };
  } finally {
    await Promise.all([echo.stop(), ping?.stop()]);
    await ends.release();
  }
}

const LEVELS: Record<Quantile, number> = { p50: 0.5, p99: 0.99, p999: 0.999 };

/** Percentiles over every sample of every repetition of one configuration. */
function pooled(series: Series<Run>, k: string): Record<Quantile, number> {
  const runs = series.all(k);
  const all = new Float64Array(runs.reduce((n, r) => n + r.samples.length, 0));
  let at = 0;
  for (const r of runs) {
    all.set(r.samples, at);
    at += r.samples.length;
  }
  all.sort();
  return { p50: quantileSorted(all, LEVELS.p50), p99: quantileSorted(all, LEVELS.p99), p999: quantileSorted(all, LEVELS.p999) };
}

function report(series: Series<Run>, profile: Profile): Section {
  const rows: string[][] = [];
  const checks: Check[] = [];
  const notes: string[] = [];
  const raw: Record<string, Record<Quantile, number> & { perRep: Array<Record<Quantile, number>> }> = {};
  for (const tls of [false, true]) {
    const legs = tls ? "TLS" : "plain";
    const q = Object.fromEntries(PATHS.map((path) => [path, pooled(series, key(path, tls))])) as Record<PathName, Record<Quantile, number>>;
    const added = (path: PathName, level: Quantile) => q[path][level] - q.direct[level];
    // A path that adds nothing measurable (below direct, by noise) counts as 0, not as a negative ratio.
    const vsProxy = (path: PathName, level: Quantile) =>
      added("haproxy", level) > 0 ? Math.max(0, added(path, level)) / added("haproxy", level) : Number.NaN;
    for (const path of PATHS) {
      const relay = path === "public" || path === "private";
      raw[key(path, tls)] = { ...q[path], perRep: series.all(key(path, tls)).map(({ p50, p99, p999 }) => ({ p50, p99, p999 })) };
      rows.push([
        label(path),
        legs,
        ...QUANTILES.map((level) => fmt(q[path][level], 0)),
        ...QUANTILES.map((level) => (path === "direct" ? "–" : fmt(added(path, level), 0))),
        ...(["p99", "p999"] as const).map((level) => (relay ? fmt(vsProxy(path, level)) : "–")),
      ]);
    }
    for (const path of ["public", "private"] as const) {
      for (const [level, limit, name] of [["p99", 1.1, "p99"], ["p999", 1.5, "p99.9"]] as const) {
        const value = vsProxy(path, level);
        if (Number.isFinite(value)) checks.push({ what: `added ${name} latency (${legs}), ${path} pipe ÷ HAProxy's`, value, limit, kind: "max", unit: "×" });
        else notes.push(`HAProxy's added ${name} (${legs}) is within noise of direct, so the ${path} pipe's ratio is not defined in this run.`);
      }
    }
  }
  const { reps, count, warmup } = profile.latency;
  return {
    title: "Latency (64-byte request/response, round trip)",
    head: ["path", "legs", "p50 µs", "p99 µs", "p99.9 µs", "added p50 µs", "added p99 µs", "added p99.9 µs", "added p99 ÷ HAProxy's", "added p99.9 ÷ HAProxy's"],
    rows,
    notes: [
      `${reps} interleaved repetition(s) of ${count} round trips (after ${warmup} unrecorded) per path; percentiles over the ${reps * count} pooled samples of each path ` +
        `(one repetition's p99.9 rests on ${Math.round(count / 1000)} samples, the pool's on ${Math.round((reps * count) / 1000)}). Added = path − direct.`,
      ...(profile.name === "quick" ? ["--quick pools few samples: its p99.9 rests on a handful of round trips, so judge the latency targets on the full run."] : []),
      ...notes,
    ],
    checks,
    raw,
  };
}

function label(path: PathName): string {
  return path === "direct" ? "direct" : path === "haproxy" ? `HAProxy 2.6, ${HAPROXY_THREADS} threads` : `Connector ${path} pipe`;
}
