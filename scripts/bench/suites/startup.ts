// Start-up: executable start to API ready with an empty state, next to a compiled Bun server that does nothing else.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { spawnTracked, stopChild } from "../lib/children.ts";
import { nofileWrap } from "../lib/limits.ts";
import { freePort, pool } from "../lib/ports.ts";
import { rssBytes } from "../lib/proc.ts";
import type { Profile, DaemonSuiteOptions } from "../lib/profile.ts";
import { Series } from "../lib/series.ts";
import { sleep } from "../lib/wait.ts";
import { fmt, mb, type Section } from "../report/model.ts";
import { createApi } from "../targets/api.ts";
import { startConnector } from "../targets/connector.ts";
import { quiet } from "../lib/quiet.ts";
import { RELAY_MODES } from "../lib/modes.ts";

interface Run {
  readyMs: number;
  rss: number;
}

export async function runStartup(options: DaemonSuiteOptions, profile: Profile, log: (line: string) => void): Promise<Section> {
  const floorExe = buildFloor(options.dir);
  const series = new Series<Run>();
  for (let rep = 0; rep < profile.startup.reps; rep++) {
    await quiet(0.15, 1500);
    for (const mode of RELAY_MODES) {
      const dir = join(options.dir, `startup-${mode.key}-${rep}`);
      const connector = await startConnector({ exe: options.exe, dir, pool: pool(...options.pool), settings: mode.settings });
      await sleep(200);
      series.add(mode.key, { readyMs: connector.readyMs, rss: rssBytes(connector.pid) });
      await connector.stop();
    }
    series.add("floor", await startFloor(floorExe));
  }
  const c = series.median("threads", (r) => r.readyMs);
  const f = series.median("floor", (r) => r.readyMs);
  log(`start-up: Connector ${fmt(c, 1)} ms, bare compiled Bun server ${fmt(f, 1)} ms (medians of ${profile.startup.reps})`);
  const row = (name: string, k: string) => {
    const [lo, hi] = series.range(k, (r) => r.readyMs);
    return [name, `${fmt(series.median(k, (r) => r.readyMs), 1)} (${fmt(lo, 1)}–${fmt(hi, 1)})`, mb(series.median(k, (r) => r.rss))];
  };
  return {
    title: "Start-up (empty state)",
    head: ["executable", "spawn → first API answer, ms median (min–max)", "RSS after, MB"],
    rows: [...RELAY_MODES.map(({ key, name }) => row(`iofog-connector start, ${name}`, key)), row("compiled Bun.serve that only answers (floor)", "floor")],
    notes: [`${profile.startup.reps} interleaved starts each; the API is polled every millisecond from the moment of spawn.`],
    checks: [{ what: "start-up to API ready, empty state", value: c, limit: 60, kind: "max", unit: "ms" }],
    raw: series.toJSON(),
  };
}

/** Compiles the floor server once per run. */
function buildFloor(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const out = join(dir, "hello-server");
  const result = Bun.spawnSync(
    [process.execPath, "build", "--compile", "--minify", join(import.meta.dir, "..", "fixtures", "hello-server.ts"), "--outfile", out],
    { stdout: "ignore", stderr: "pipe", timeout: 120_000 },
  );
  if (result.exitCode !== 0) throw new Error(`could not compile the start-up floor: ${result.stderr.toString()}`);
  return out;
}

async function startFloor(exe: string): Promise<Run> {
  const port = freePort();
  const api = createApi(`http://127.0.0.1:${port}`);
  const spawnedAt = performance.now();
  const child = spawnTracked([...nofileWrap(), exe, String(port)]);
  try {
    for (let i = 0; i < 10_000; i++) {
      if (await api.ping()) {
        const readyMs = performance.now() - spawnedAt;
        await sleep(200);
        return { readyMs, rss: rssBytes(child.pid) };
      }
      await sleep(1);
    }
    throw new Error("the compiled floor server never answered");
  } finally {
    await stopChild(child);
  }
}
