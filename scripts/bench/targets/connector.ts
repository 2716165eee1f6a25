// The Connector under test: the compiled executable started with its own settings, state and log directory.
import type { Subprocess } from "bun";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnTracked, stopChild } from "../lib/children.ts";
import { nofileWrap } from "../lib/limits.ts";
import { freePort, type Pool } from "../lib/ports.ts";
import type { CertFiles } from "../lib/tls-cert.ts";
import { sleep } from "../lib/wait.ts";
import { createApi, type Api } from "./api.ts";

export interface ConnectorOptions {
  exe: string;
  /** A fresh directory for this instance: settings, state file, log. */
  dir: string;
  pool: Pool;
  /** TLS on the API and every relay port; plain (dev mode) when absent. */
  tls?: CertFiles;
  readyTimeoutMs?: number;
  /** Settings besides the ones every instance gets, e.g. { relayThreads: 0 }. */
  settings?: Record<string, unknown>;
  /** Told the process id as soon as the executable is spawned. */
  onSpawn?: (pid: number, spawnedAt: number) => void;
}

export interface Connector {
  readonly pid: number;
  readonly api: Api;
  /** Milliseconds from spawning the executable to the first answer of the API. */
  readonly readyMs: number;
  /** performance.now() when the executable was spawned. */
  readonly spawnedAt: number;
  readonly stateFile: string;
  stop(): Promise<void>;
}

/** Where the instance in `dir` keeps configs.json: write one there before the start to restore mappings. */
export function stateFileOf(dir: string): string {
  return join(dir, "configs.json");
}

/** Writes the settings, spawns the executable and waits until the API answers `status all`. */
export async function startConnector(options: ConnectorOptions): Promise<Connector> {
  const { dir, pool, tls } = options;
  mkdirSync(join(dir, "log"), { recursive: true });
  const apiPort = freePort();
  const settings = {
    ports: [`${pool.from}-${pool.to}`],
    exclude: pool.exclude.map(String),
    broker: 12345,
    address: "127.0.0.1",
    dev: tls === undefined,
    apiPort,
    stateFile: stateFileOf(dir),
    logDir: join(dir, "log"),
    ...(tls ? { certFile: tls.cert, keyFile: tls.key } : {}),
    ...options.settings,
  };
  const config = join(dir, "iofog-connector.conf");
  writeFileSync(config, JSON.stringify(settings, null, 2));
  const api = createApi(`${tls ? "https" : "http"}://127.0.0.1:${apiPort}`);

  const spawnedAt = performance.now();
  const child = spawnTracked([...nofileWrap(), options.exe, "start", "--config", config], {
    stdout: Bun.file(join(dir, "stdout.log")),
    stderr: Bun.file(join(dir, "stderr.log")),
  });
  options.onSpawn?.(child.pid, spawnedAt);
  const readyMs = await waitReady(child, api, spawnedAt, options.readyTimeoutMs ?? 60_000, dir);
  return {
    pid: child.pid,
    api,
    readyMs,
    spawnedAt,
    stateFile: settings.stateFile,
    async stop() {
      await stopChild(child, 10_000);
    },
  };
}

async function waitReady(child: Subprocess, api: Api, spawnedAt: number, timeoutMs: number, dir: string): Promise<number> {
  const deadline = spawnedAt + timeoutMs;
  while (performance.now() < deadline) {
    if (child.exitCode !== null) {
      const err = await Bun.file(join(dir, "stderr.log")).text();
      const out = await Bun.file(join(dir, "stdout.log")).text();
      throw new Error(`the Connector exited with code ${child.exitCode} before its API answered:\n${(err + out).slice(-2000)}`);
    }
    if (await api.ping()) return performance.now() - spawnedAt;
    await sleep(1);
  }
  throw new Error(`the Connector's API did not answer within ${timeoutMs} ms (log: ${dir})`);
}
