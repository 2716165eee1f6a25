// Isolation: with 9,000 mappings restored, does control-plane load (mapping/list, /metrics, status) slow a relayed
// ping-pong? Measured for relay threads and for the control thread relaying (relayThreads 0), interleaved.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { startGen, type Gen } from "../lib/gen.ts";
import { RELAY_MODES, type RelayMode } from "../lib/modes.ts";
import { pool as makePool } from "../lib/ports.ts";
import type { DaemonSuiteOptions, Profile } from "../lib/profile.ts";
import { quiet } from "../lib/quiet.ts";
import { Series } from "../lib/series.ts";
import { quantileSorted } from "../lib/stats.ts";
import { sleep } from "../lib/wait.ts";
import { fmt, type Check, type Section } from "../report/model.ts";
import { startConnector, stateFileOf } from "../targets/connector.ts";
import { writeStateFile } from "../targets/state-file.ts";

interface Phase {
  /** Round trips a second (one after the other: 1 / mean round trip). */
  rate: number;
  /** µs. */
  p99: number;
}

interface Run {
  quiet: Phase;
  loaded: Phase;
  /** API answers the two load clients got while the loaded phase ran. */
  calls: number;
}

const LOAD_CLIENTS = 2;

export async function runIsolation(options: DaemonSuiteOptions, profile: Profile, log: (line: string) => void): Promise<Section> {
  const { reps, mappings, seconds } = profile.isolation;
  const series = new Series<Run>();
  for (let rep = 0; rep < reps; rep++) {
    for (const mode of RELAY_MODES) {
      await quiet(0.15, 1500);
      const run = await isolationOnce(options, join(options.dir, `isolation-${mode.key}-${rep}`), mode, mappings, seconds);
      series.add(mode.key, run);
      log(
        `isolation rep ${rep + 1}/${reps}, ${mode.name}: ${fmt(run.quiet.rate, 0)} round trips/s (p99 ${fmt(run.quiet.p99, 0)} µs) alone, ` +
          `${fmt(run.loaded.rate, 0)}/s (p99 ${fmt(run.loaded.p99, 0)} µs) under ${run.calls} API answers`,
      );
    }
  }
  const rows: string[][] = [];
  const checks: Check[] = [];
  for (const mode of RELAY_MODES) {
    const m = (pick: (r: Run) => number) => series.median(mode.key, pick);
    const rateShare = m((r) => r.loaded.rate / r.quiet.rate);
    const p99Ratio = m((r) => r.loaded.p99 / r.quiet.p99);
    rows.push([mode.name, fmt(m((r) => r.quiet.rate), 0), fmt(m((r) => r.quiet.p99), 0), fmt(m((r) => r.loaded.rate), 0), fmt(m((r) => r.loaded.p99), 0), `${fmt(rateShare * 100, 0)} %`, `${fmt(p99Ratio)}×`, fmt(m((r) => r.calls), 0)]);
    if (mode.key === "threads") {
      checks.push({ what: `ping-pong rate under API load ÷ alone, ${mappings} mappings`, value: rateShare * 100, limit: 80, kind: "min", unit: "%" });
      checks.push({ what: `ping-pong p99 under API load ÷ alone, ${mappings} mappings`, value: p99Ratio, limit: 2, kind: "max", unit: "×" });
    }
  }
  return {
    title: `Isolation: a relayed ping-pong while the API is busy, ${mappings} mappings restored`,
    head: ["relay", "alone: round trips/s", "alone: p99 µs", "under API load: round trips/s", "under API load: p99 µs", "rate kept", "p99 ×", "API answers meanwhile"],
    rows,
    notes: [
      `${reps} interleaved repetitions per relay setting, medians of per-repetition ratios. A 64-byte ping-pong (client on port2, echoing agent on port1, ` +
        `each its own process) runs ${seconds} s alone (after 1 s of warm-up), then ${seconds} s more while ${LOAD_CLIENTS} clients, each its own process, loop on ` +
        "mapping/list, GET /metrics and commandline status over loopback, one call after the other.",
    ],
    checks,
    raw: series.toJSON(),
  };
}

async function isolationOnce(options: DaemonSuiteOptions, dir: string, mode: RelayMode, mappings: number, seconds: number): Promise<Run> {
  mkdirSync(dir, { recursive: true });
  const pool = makePool(...options.pool);
  const [probe] = writeStateFile(stateFileOf(dir), pool, { mappings, maxConnections: 60, heartbeatThreshold: 200_000 });
  const connector = await startConnector({ exe: options.exe, dir, pool, settings: mode.settings });
  const load: Gen[] = [];
  const agent = { port: probe!.port1, passcode: probe!.passcodeport1 };
  try {
    await pingPong(agent, probe!.port2, 1); // the relay's and the generators' JIT warm up
    const alone = await pingPong(agent, probe!.port2, seconds);
    for (let i = 0; i < LOAD_CLIENTS; i++) load.push(startGen({ role: "api", base: connector.api.base }, 300_000));
    await Promise.all(load.map((gen) => gen.next("ready", 20_000)));
    const loaded = await pingPong(agent, probe!.port2, seconds);
    for (const gen of load) gen.send("stop");
    const done = await Promise.all(load.map((gen) => gen.next("done", 60_000)));
    const calls = done.reduce((sum, d) => sum + (d.list as number) + (d.metrics as number) + (d.status as number), 0);
    return { quiet: alone, loaded, calls };
  } finally {
    await Promise.all(load.map((gen) => gen.stop()));
    await connector.stop();
  }
}

/** One ping-pong session: an echoing agent (the Connector ends its connection with the client's) and a client. */
async function pingPong(agent: { port: number; passcode: string }, port: number, seconds: number): Promise<Phase> {
  const echo = startGen({ role: "echo", targets: [agent], tls: false }, 300_000);
  let ping: Gen | undefined;
  try {
    await echo.next("ready", 20_000);
    ping = startGen({ role: "ping", target: { port }, tls: false, size: 64, warmup: 0, count: 0, timeline: true }, 300_000);
    await ping.next("ready", 20_000);
    await sleep(seconds * 1000);
    ping.send("stop");
    const done = await ping.next("done", 60_000);
    const samples = Float64Array.from(done.samples as number[], (v) => v / 10).sort();
    const busy = samples.reduce((sum, us) => sum + us, 0) / 1e6;
    return { rate: samples.length / busy, p99: quantileSorted(samples, 0.99) };
  } finally {
    await Promise.all([ping?.stop(), echo.stop()]);
  }
}
