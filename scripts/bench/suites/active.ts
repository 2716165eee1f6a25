// Active scale: 2,000 concurrent public pairs each moving 1 MiB through the Connector, next to direct and HAProxy.
import { startGen, type Gen } from "../lib/gen.ts";
import { rssBytes } from "../lib/proc.ts";
import type { Profile } from "../lib/profile.ts";
import { Series } from "../lib/series.ts";
import { fmt, mb, type Section } from "../report/model.ts";
import { openEnds, type PathName } from "./paths.ts";
import type { World } from "./world.ts";
import { quiet } from "../lib/quiet.ts";

interface Run {
  /** First client dial to the last byte received, s. */
  total: number;
  /** First payload byte written to the last byte received, s. */
  transfer: number;
  rssBefore: number;
  rssPeak: number;
}

const ACTIVE_PATHS: PathName[] = ["direct", "haproxy", "public"];

export async function runActive(world: World, profile: Profile, log: (line: string) => void): Promise<Section> {
  const { reps, pairs, bytesPerPair } = profile.active;
  const series = new Series<Run>();
  for (let rep = 0; rep < reps; rep++) {
    const line: string[] = [];
    for (const path of ACTIVE_PATHS) {
      const run = await runOnce(world, path, profile);
      series.add(path, run);
      line.push(`${path} ${fmt(run.total)} s`);
    }
    log(`active scale rep ${rep + 1}/${reps}, ${pairs} pairs × ${bytesPerPair / 2 ** 20} MiB: ${line.join(", ")}`);
  }
  const rows = ACTIVE_PATHS.map((path) => [
    path === "direct" ? "direct" : path === "haproxy" ? "HAProxy 2.6, 2 threads" : "Connector public pipes",
    fmt(series.median(path, (r) => r.total)),
    fmt(series.median(path, (r) => r.transfer)),
    fmt(series.ratio(path, "direct", (r) => r.total)),
    path === "direct" ? "–" : fmt(series.ratio(path, "haproxy", (r) => r.total)),
    path === "direct" ? "–" : mb(series.median(path, (r) => r.rssBefore)),
    path === "direct" ? "–" : mb(series.median(path, (r) => r.rssPeak)),
  ]);
  return {
    title: `Active scale: ${pairs} concurrent pairs × ${bytesPerPair / 2 ** 20} MiB`,
    head: ["path", "total s (dial → last byte)", "transfer s", "time × direct", "time × HAProxy", "relay RSS before, MB", "relay RSS peak, MB"],
    rows,
    notes: [
      `${reps} interleaved repetition(s). Public: ${Math.ceil(pairs / profile.active.perMapping)} mappings × ${profile.active.perMapping} agent connections; receivers dial the agent side first, then ${pairs} clients connect (at most 256 handshakes in flight) and each sends 1 MiB. RSS sampled every 20 ms.`,
    ],
    checks: [],
    raw: series.toJSON(),
  };
}

async function runOnce(world: World, path: PathName, profile: Profile): Promise<Run> {
  const { pairs, bytesPerPair, perMapping } = profile.active;
  const ends = await openEnds(world, path, false, pairs, perMapping);
  const budgetMs = 120_000;
  let source: Gen | undefined;
  let sampler: ReturnType<typeof setInterval> | undefined;
  const sink = startGen({ role: "sink", ...ends.receive, tls: false, expectBytes: pairs * bytesPerPair }, budgetMs + 10_000);
  try {
    await sink.next("ready", 60_000);
    await quiet(0.15, 1500);
    const pid = ends.relayPid;
    const rssBefore = pid === undefined ? Number.NaN : rssBytes(pid);
    let rssPeak = rssBefore;
    if (pid !== undefined) sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssBytes(pid))), 20);
    source = startGen({ role: "source", targets: ends.send, tls: false, bytesPerStream: bytesPerPair, chunkBytes: bytesPerPair }, budgetMs + 10_000);
    const [sent, got] = await Promise.all([source.next("done", budgetMs), sink.next("done", budgetMs)]);
    clearInterval(sampler);
    if (pid !== undefined) rssPeak = Math.max(rssPeak, rssBytes(pid));
    return {
      total: ((got.lastAt as number) - (sent.dialAt as number)) / 1000,
      transfer: ((got.lastAt as number) - (sent.startedAt as number)) / 1000,
      rssBefore,
      rssPeak,
    };
  } finally {
    clearInterval(sampler);
    await Promise.all([sink.stop(), source?.stop()]);
    await ends.release();
  }
}
