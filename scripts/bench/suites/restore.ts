// Restart with 9,000 mappings in configs.json: time to API ready, to all 18,000 listeners bound, and the memory they hold.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { countListening, pool as makePool, type Pool } from "../lib/ports.ts";
import { rssBytes } from "../lib/proc.ts";
import type { Profile, DaemonSuiteOptions } from "../lib/profile.ts";
import { Series } from "../lib/series.ts";
import { tcpSocketsInUse } from "../lib/sockstat.ts";
import { pollUntil, sleep } from "../lib/wait.ts";
import { fmt, kib, mb, type Section } from "../report/model.ts";
import { startConnector, stateFileOf } from "../targets/connector.ts";
import { writeStateFile } from "../targets/state-file.ts";
import { quiet } from "../lib/quiet.ts";
import { RELAY_MODES, type RelayMode } from "../lib/modes.ts";

interface Run {
  readyMs: number;
  listenersMs: number;
  rss: number;
  emptyRss: number;
}

export async function runRestore(options: DaemonSuiteOptions, profile: Profile, log: (line: string) => void): Promise<Section> {
  const { mappings } = profile.restore;
  const series = new Series<Run>();
  for (let rep = 0; rep < profile.restore.reps; rep++) {
    for (const mode of RELAY_MODES) {
      await quiet(0.15, 1500);
      const pool = makePool(...options.pool);
      const emptyRss = await settledRss(options.exe, join(options.dir, `restore-empty-${mode.key}-${rep}`), pool, mode);
      const run = { ...(await restoreOnce(options.exe, join(options.dir, `restore-${mode.key}-${rep}`), pool, mappings, mode)), emptyRss };
      series.add(mode.key, run);
      log(`restore rep ${rep + 1}/${profile.restore.reps}, ${mode.name}: ${mappings} mappings, API ready ${fmt(run.readyMs, 0)} ms, listeners bound ${fmt(run.listenersMs, 0)} ms, RSS ${mb(run.rss)} MB`);
    }
  }
  const m = (key: string, pick: (r: Run) => number) => series.median(key, pick);
  const ready = Math.max(m("threads", (r) => r.readyMs), m("threads", (r) => r.listenersMs));
  return {
    title: `Idle scale: ${mappings} mappings restored from configs.json`,
    head: ["relay", "spawn → API ready, ms", `spawn → ${2 * mappings} listeners bound, ms`, "RSS after, MB", "RSS with empty state, MB", "RSS per listener, KiB"],
    rows: RELAY_MODES.map(({ key, name }) => [
      name, fmt(m(key, (r) => r.readyMs), 0), fmt(m(key, (r) => r.listenersMs), 0), mb(m(key, (r) => r.rss)), mb(m(key, (r) => r.emptyRss)), kib(m(key, (r) => (r.rss - r.emptyRss) / (2 * mappings)), 2),
    ]),
    notes: [
      `Medians of ${profile.restore.reps} starts per relay setting, interleaved. Listeners are counted from /proc/net/sockstat every 2 ms and confirmed in /proc/net/tcp; RSS is read 1 s after both.`,
    ],
    checks: [
      { what: `${mappings} mappings restored: ready (API and all listeners)`, value: ready, limit: 500, kind: "max", unit: "ms" },
      { what: `${mappings} mappings restored: RSS`, value: m("threads", (r) => r.rss) / 1e6, limit: 100, kind: "max", unit: "MB" },
    ],
    raw: series.toJSON(),
  };
}

async function settledRss(exe: string, dir: string, pool: Pool, mode: RelayMode): Promise<number> {
  mkdirSync(dir, { recursive: true });
  const connector = await startConnector({ exe, dir, pool, settings: mode.settings });
  try {
    await sleep(1000);
    return rssBytes(connector.pid);
  } finally {
    await connector.stop();
  }
}

async function restoreOnce(exe: string, dir: string, pool: Pool, mappings: number, mode: RelayMode): Promise<Omit<Run, "emptyRss">> {
  mkdirSync(dir, { recursive: true });
  writeStateFile(stateFileOf(dir), pool, { mappings, maxConnections: 60, heartbeatThreshold: 200_000 });
  const listeners = 2 * mappings;
  const before = tcpSocketsInUse();
  let bound: Promise<number> | undefined;
  const connector = await startConnector({
    exe,
    dir,
    pool,
    settings: mode.settings,
    onSpawn(_pid, spawnedAt) {
      bound = pollUntil(() => (tcpSocketsInUse() - before >= listeners ? performance.now() - spawnedAt : undefined), 60_000, "listeners to bind", 2);
    },
  });
  try {
    let listenersMs = await bound!;
    // sockstat counts every TCP socket on the machine: confirm that the pool ports themselves listen.
    if (countListening(pool.from, pool.to) < listeners) {
      await pollUntil(() => (countListening(pool.from, pool.to) >= listeners ? true : undefined), 60_000, "listeners on the pool ports", 50);
      listenersMs = performance.now() - connector.spawnedAt;
    }
    await sleep(1000);
    return { readyMs: connector.readyMs, listenersMs, rss: rssBytes(connector.pid) };
  } finally {
    await connector.stop();
  }
}
