// 8,000 idle authorized agent connections, heartbeats only: memory per connection and CPU while idle.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { startGen, type Gen } from "../lib/gen.ts";
import { pool as makePool } from "../lib/ports.ts";
import { cpuSeconds, openDescriptors, rssBytes } from "../lib/proc.ts";
import type { Profile } from "../lib/profile.ts";
import { settled } from "../lib/quiet.ts";
import { sleep } from "../lib/wait.ts";
import { fmt, kib, mb, type Section } from "../report/model.ts";
import { startConnector, stateFileOf, type Connector } from "../targets/connector.ts";
import type { CertFiles } from "../lib/tls-cert.ts";
import { writeStateFile } from "../targets/state-file.ts";

export interface IdleOptions {
  exe: string;
  dir: string;
  pool: [number, number];
}

/** What one more idle authorized agent connection costs: RSS at two connection counts. */
export interface IdleCost {
  mappings: number;
  rss0: number;
  rssFirst: number;
  rss1: number;
  first: number;
  agents: number;
  /** ΔRSS ÷ Δconnections between the two counts. */
  perConn: number;
  connectSeconds: number;
}

export interface IdleSpec {
  agents: number;
  perMapping: number;
  beatMs: number;
  /** TLS on the relay ports (the executable is given the certificate); plain when absent. */
  tls?: CertFiles;
}

/**
 * Restores mappings, dials `agents` idle agents in two stages and reads RSS at each; `whileUp` runs with
 * every agent connected (for measurements of the idle daemon) before everything is stopped.
 */
export async function measureIdle(options: IdleOptions, spec: IdleSpec, whileUp?: (connector: Connector, gen: Gen) => Promise<void>): Promise<IdleCost> {
  const { agents, perMapping, beatMs, tls } = spec;
  const dir = options.dir;
  mkdirSync(dir, { recursive: true });
  const pool = makePool(...options.pool);
  const mappings = writeStateFile(stateFileOf(dir), pool, { mappings: Math.ceil(agents / perMapping), maxConnections: perMapping, heartbeatThreshold: 200_000 });
  const connector = await startConnector({ exe: options.exe, dir, pool, tls });
  const first = Math.floor(agents / 8);
  const gen = startGen(
    {
      role: "idle",
      targets: Array.from({ length: agents }, (_, i) => ({ port: mappings[Math.floor(i / perMapping)]!.port1, passcode: mappings[Math.floor(i / perMapping)]!.passcodeport1 })),
      tls: tls !== undefined,
      concurrency: 64,
      beatMs,
      stages: [first, agents],
    },
    600_000,
  );
  try {
    const rss = () => rssBytes(connector.pid);
    const rss0 = await settled(rss);
    const early = await gen.next("ready", 120_000);
    if (early.connected !== first) throw new Error(`only ${String(early.connected)} of ${first} agent connections were authorized`);
    const rssFirst = await settled(rss);
    gen.send("more");
    const ready = await gen.next("ready", 120_000);
    const connected = ready.connected as number;
    if (connected !== agents) throw new Error(`only ${connected} of ${agents} agent connections were authorized (${String(ready.failed)} failed)`);
    const rss1 = await settled(rss);
    await whileUp?.(connector, gen);
    // The slope between two connection counts: what one more connection costs, whatever the GC did to the baseline.
    const perConn = (rss1 - rssFirst) / (agents - first);
    return { mappings: mappings.length, rss0, rssFirst, rss1, first, agents, perConn, connectSeconds: (early.seconds as number) + (ready.seconds as number) };
  } finally {
    await gen.stop();
    await connector.stop();
  }
}

export async function runIdle(options: IdleOptions, profile: Profile, log: (line: string) => void): Promise<Section> {
  const { agents, perMapping, idleSeconds, beatMs } = profile.idle;
  let fds = 0;
  let cpuShare = 0;
  let stats: Record<string, unknown> = {};
  const cost = await measureIdle({ ...options, dir: join(options.dir, "idle") }, { agents, perMapping, beatMs }, async (connector, gen) => {
    fds = openDescriptors(connector.pid);
    const cpu0 = cpuSeconds(connector.pid);
    const t0 = performance.now();
    await sleep(idleSeconds * 1000);
    cpuShare = (cpuSeconds(connector.pid) - cpu0) / ((performance.now() - t0) / 1000);
    gen.send("stats");
    stats = await gen.next("stats", 10_000);
  });
  const { rss0, rssFirst, rss1, first, perConn, mappings } = cost;
  log(`idle: ${agents} agents authorized, ${kib(perConn, 2)} KiB each, idle CPU ${fmt(cpuShare * 100, 2)}% of a core`);
  return {
    title: `Idle scale: ${agents} idle authorized agent connections`,
    head: ["mappings", "authorize all, s", "RSS before, MB", `RSS with ${first} agents, MB`, `RSS with ${agents} agents, MB`, "RSS per connection, KiB", "descriptors", `CPU while idle (${idleSeconds} s), % of a core`, "BEATs sent / answered / closed"],
    rows: [[
      String(mappings),
      fmt(cost.connectSeconds, 1),
      mb(rss0),
      mb(rssFirst),
      mb(rss1),
      kib(perConn, 2),
      String(fds),
      fmt(cpuShare * 100, 2),
      `${String(stats.beatsSent)} / ${String(stats.beatsAnswered)} / ${String(stats.closed)}`,
    ]],
    notes: [
      `${mappings} public mappings restored at start (maxconnections ${perMapping}, heartbeatabsencethreshold 200000); one generator process dials ${first} agents, then the rest up to ${agents}; each sends BEAT every ${beatMs / 1000} s at its own phase. RSS per connection = ΔRSS ÷ Δconnections between the two counts, each read once RSS has settled (two readings 1 s apart within 2%).`,
    ],
    checks: [{ what: "RSS per idle agent connection", value: perConn / 1024, limit: 4, kind: "max", unit: "KiB" }],
    raw: { rss0, rssFirst, rss1, fds, cpuShare, stats, connectSeconds: cost.connectSeconds },
  };
}
