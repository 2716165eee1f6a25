// 8,000 idle authorized agent connections, heartbeats only: memory per connection and CPU while idle.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { startGen } from "../lib/gen.ts";
import { pool as makePool } from "../lib/ports.ts";
import { cpuSeconds, openDescriptors, rssBytes } from "../lib/proc.ts";
import type { Profile } from "../lib/profile.ts";
import { settled } from "../lib/quiet.ts";
import { sleep } from "../lib/wait.ts";
import { fmt, kib, mb, type Section } from "../report/model.ts";
import { startConnector, stateFileOf } from "../targets/connector.ts";
import { writeStateFile } from "../targets/state-file.ts";

export interface IdleOptions {
  exe: string;
  dir: string;
  pool: [number, number];
}

export async function runIdle(options: IdleOptions, profile: Profile, log: (line: string) => void): Promise<Section> {
  const { agents, perMapping, idleSeconds, beatMs } = profile.idle;
  const dir = join(options.dir, "idle");
  mkdirSync(dir, { recursive: true });
  const pool = makePool(...options.pool);
  const mappings = writeStateFile(stateFileOf(dir), pool, { mappings: Math.ceil(agents / perMapping), maxConnections: perMapping, heartbeatThreshold: 200_000 });
  const connector = await startConnector({ exe: options.exe, dir, pool });
  const first = Math.floor(agents / 8);
  const gen = startGen(
    {
      role: "idle",
      targets: Array.from({ length: agents }, (_, i) => ({ port: mappings[Math.floor(i / perMapping)]!.port1, passcode: mappings[Math.floor(i / perMapping)]!.passcodeport1 })),
      tls: false,
      concurrency: 64,
      beatMs,
      stages: [first, agents],
    },
    180_000 + idleSeconds * 1000,
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
    const fds = openDescriptors(connector.pid);
    const cpu0 = cpuSeconds(connector.pid);
    const t0 = performance.now();
    await sleep(idleSeconds * 1000);
    const cpuShare = (cpuSeconds(connector.pid) - cpu0) / ((performance.now() - t0) / 1000);
    gen.send("stats");
    const stats = await gen.next("stats", 10_000);
    // The slope between two connection counts: what one more connection costs, whatever the GC did to the baseline.
    const perConn = (rss1 - rssFirst) / (agents - first);
    log(`idle: ${agents} agents authorized, ${kib(perConn, 2)} KiB each, idle CPU ${fmt(cpuShare * 100, 2)}% of a core`);
    return {
      title: `Idle scale: ${agents} idle authorized agent connections`,
      head: ["mappings", "authorize all, s", "RSS before, MB", `RSS with ${first} agents, MB`, `RSS with ${agents} agents, MB`, "RSS per connection, KiB", "descriptors", `CPU while idle (${idleSeconds} s), % of a core`, "BEATs sent / answered / closed"],
      rows: [[
        String(mappings.length),
        fmt((early.seconds as number) + (ready.seconds as number), 1),
        mb(rss0),
        mb(rssFirst),
        mb(rss1),
        kib(perConn, 2),
        String(fds),
        fmt(cpuShare * 100, 2),
        `${String(stats.beatsSent)} / ${String(stats.beatsAnswered)} / ${String(stats.closed)}`,
      ]],
      notes: [
        `${mappings.length} public mappings restored at start (maxconnections ${perMapping}, heartbeatabsencethreshold 200000); one generator process dials ${first} agents, then the rest up to ${agents}; each sends BEAT every ${beatMs / 1000} s at its own phase. RSS per connection = ΔRSS ÷ Δconnections between the two counts, each read once RSS has settled (two readings 1 s apart within 2%).`,
      ],
      checks: [{ what: "RSS per idle agent connection", value: perConn / 1024, limit: 4, kind: "max", unit: "KiB" }],
      raw: { rss0, rssFirst, rss1, fds, cpuShare, stats, connectSeconds: ready.seconds },
    };
  } finally {
    await gen.stop();
    await connector.stop();
  }
}
