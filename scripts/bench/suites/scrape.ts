// GET /metrics with 9,000 mappings restored: answer size, time and CPU per scrape, and how long relayed traffic stalls meanwhile.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { wallMs } from "../gen/io.ts";
import { startGen, type Gen } from "../lib/gen.ts";
import { pool as makePool } from "../lib/ports.ts";
import { cpuSeconds } from "../lib/proc.ts";
import type { DaemonSuiteOptions, Profile } from "../lib/profile.ts";
import { quiet } from "../lib/quiet.ts";
import { Series } from "../lib/series.ts";
import { median, minMax } from "../lib/stats.ts";
import { sleep } from "../lib/wait.ts";
import { fmt, mb, type Section } from "../report/model.ts";
import { startConnector, stateFileOf } from "../targets/connector.ts";
import { writeStateFile } from "../targets/state-file.ts";

interface Run {
  bytes: number;
  /** Client side, request to last byte, ms: one per scrape. */
  wallMs: number[];
  /** The daemon's CPU per scrape, ms, averaged over the scrapes of a run (the kernel counts in 10 ms ticks): all threads, and its main thread (the event loop). */
  cpuMs: number;
  loopMs: number;
  /** Longest relayed 64-byte round trip, µs, in each 200 ms with no scrape running, and in each scrape. */
  idleMax: number[];
  scrapeMax: number[];
}

export async function runScrape(options: DaemonSuiteOptions, profile: Profile, log: (line: string) => void): Promise<Section> {
  const { reps, mappings, scrapes } = profile.scrape;
  const series = new Series<Run>();
  for (let rep = 0; rep < reps; rep++) {
    await quiet(0.15, 1500);
    const run = await scrapeOnce(options, join(options.dir, `scrape-${rep}`), mappings, scrapes);
    series.add("scrape", run);
    log(
      `scrape rep ${rep + 1}/${reps}, ${mappings} mappings: ${mb(run.bytes, 2)} MB, ${fmt(median(run.wallMs), 0)} ms, CPU ${fmt(run.cpuMs, 0)} ms (event loop ${fmt(run.loopMs, 0)}), ` +
        `longest relayed round trip ${us(run.idleMax)} ms per 200 ms idle, ${us(run.scrapeMax)} ms per scrape`,
    );
  }
  const m = (pick: (r: Run) => number) => series.median("scrape", pick);
  const runs = series.all("scrape");
  const walls = runs.flatMap((r) => r.wallMs);
  const idleMax = runs.flatMap((r) => r.idleMax);
  const scrapeMax = runs.flatMap((r) => r.scrapeMax);
  const [fastest, slowest] = minMax(walls);
  return {
    title: `Metrics: GET /metrics with ${mappings} mappings`,
    head: [
      "answer, MB",
      "request → last byte, ms median (min–max)",
      "daemon CPU per scrape, ms: event loop / all threads",
      "longest relayed round trip per 200 ms without a scrape, ms median (max)",
      "longest relayed round trip per scrape, ms median (max)",
    ],
    rows: [[
      mb(m((r) => r.bytes), 2),
      `${fmt(median(walls), 0)} (${fmt(fastest, 0)}–${fmt(slowest, 0)})`,
      `${fmt(m((r) => r.loopMs), 0)} / ${fmt(m((r) => r.cpuMs), 0)}`,
      us(idleMax),
      us(scrapeMax),
    ]],
    notes: [
      `${mappings} public mappings restored from configs.json, all counters zero; ${scrapes} scrapes per start, ${reps} start(s), medians over starts. ` +
        "CPU: the daemon's user + system time over the scrapes ÷ their number, with no other traffic; the event loop is its main thread " +
        "(/proc/PID/task/PID/stat), the rest is the GC's and the file-system pool's threads. Then the same scrapes again, 200 ms apart, while a " +
        "64-byte ping-pong runs through one of the mappings (client on port2, echoing agent on port1, each its own process): a round trip " +
        "overlapping a scrape waits for whatever holds the daemon's event loop, so the longest one per scrape bounds its longest block " +
        "(from above: on a busy machine the generators themselves wait for a core, as the figure without a scrape shows).",
    ],
    checks: [
      { what: `/metrics answer with ${mappings} mappings`, value: m((r) => r.bytes) / 1e6, limit: 5, kind: "max", unit: "MB" },
      { what: `/metrics event-loop time per scrape, ${mappings} mappings`, value: m((r) => r.loopMs), limit: 50, kind: "max", unit: "ms" },
      { what: `longest relayed round trip per scrape (median), ${mappings} mappings`, value: median(scrapeMax) / 1000, limit: 10, kind: "max", unit: "ms" },
    ],
    raw: series.toJSON(),
  };
}

async function scrapeOnce(options: DaemonSuiteOptions, dir: string, mappings: number, scrapes: number): Promise<Run> {
  mkdirSync(dir, { recursive: true });
  const pool = makePool(...options.pool);
  const [probe] = writeStateFile(stateFileOf(dir), pool, { mappings, maxConnections: 60, heartbeatThreshold: 200_000 });
  const connector = await startConnector({ exe: options.exe, dir, pool });
  let echo: Gen | undefined;
  let ping: Gen | undefined;
  try {
    const url = `${connector.api.base}/metrics`;
    await scrape(url); // the first render warms the JIT up
    const cpu0 = cpuSeconds(connector.pid);
    const loop0 = cpuSeconds(connector.pid, connector.pid);
    const quietWalls: number[] = [];
    let bytes = 0;
    for (let i = 0; i < scrapes; i++) {
      const s = await scrape(url);
      quietWalls.push(s.end - s.start);
      bytes = s.bytes;
    }
    const cpuMs = ((cpuSeconds(connector.pid) - cpu0) * 1000) / scrapes;
    const loopMs = ((cpuSeconds(connector.pid, connector.pid) - loop0) * 1000) / scrapes;

    echo = startGen({ role: "echo", targets: [{ port: probe!.port1, passcode: probe!.passcodeport1 }], tls: false }, 120_000);
    await echo.next("ready", 20_000);
    ping = startGen({ role: "ping", target: { port: probe!.port2 }, tls: false, size: 64, warmup: 1000, count: 0, timeline: true }, 120_000);
    await ping.next("ready", 20_000);
    await sleep(1000);
    const idleWindows: Array<[number, number]> = [];
    const scrapeWindows: Array<[number, number]> = [];
    for (let i = 0; i < scrapes; i++) {
      const before = wallMs();
      await sleep(200);
      idleWindows.push([before, wallMs()]);
      const s = await scrape(url);
      scrapeWindows.push([s.start, s.end]);
    }
    ping.send("stop");
    const done = await ping.next("done", 20_000);
    const rtts = done.samples as number[];
    const at = done.at as number[];
    // The longest round trip that overlaps each window, in µs (samples are tenths of a µs, `at` wall ms).
    const longest = (windows: Array<[number, number]>) =>
      windows.map(([from, to]) => rtts.reduce((max, tenths, i) => (at[i]! <= to && at[i]! + tenths / 10_000 >= from ? Math.max(max, tenths / 10) : max), 0));
    return { bytes, wallMs: quietWalls, cpuMs, loopMs, idleMax: longest(idleWindows), scrapeMax: longest(scrapeWindows) };
  } finally {
    await Promise.all([ping?.stop(), echo?.stop()]);
    await connector.stop();
  }
}

/** Round trips in µs as "median (max)" in ms. */
function us(values: number[]): string {
  return `${fmt(median(values) / 1000, 1)} (${fmt(Math.max(...values) / 1000, 1)})`;
}

async function scrape(url: string): Promise<{ start: number; end: number; bytes: number }> {
  const start = wallMs();
  const response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  const body = await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`GET /metrics answered ${response.status}`);
  return { start, end: wallMs(), bytes: body.byteLength };
}
