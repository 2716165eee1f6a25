// An in-process Connector on 127.0.0.1 with an ephemeral API port, a temp dir for its files and captured log lines.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Settings } from "../../src/config/load.ts";
import { startDaemon, type Daemon, type DaemonOptions } from "../../src/daemon.ts";
import { createLogger } from "../../src/log.ts";

export interface TestDaemon {
  daemon: Daemon;
  settings: Settings;
  dir: string;
  url: string;
  lines: string[];
  /** POSTs form fields (or a JSON object with `json: true`) and returns status and parsed body. */
  post(path: string, fields?: Record<string, unknown>, options?: { json?: boolean }): Promise<{ status: number; body: any; text: string; type: string | null }>;
  /** Stops the daemon (if running) and removes its files. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** A pool range of `size` ports starting at a random base below the kernel's ephemeral range. */
export function randomPortRange(size: number): { from: number; to: number } {
  const from = 10000 + Math.floor(Math.random() * (32000 - 10000 - size));
  return { from, to: from + size - 1 };
}

export async function startTestDaemon(
  overrides: Partial<Settings> = {},
  options: { dir?: string; keepDir?: boolean; relayLimits?: DaemonOptions["relayLimits"]; hostname?: string; clock?: DaemonOptions["clock"] } = {},
): Promise<TestDaemon> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "iofog-daemon-"));
  const settings: Settings = {
    file: join(dir, "iofog-connector.conf"),
    ports: [randomPortRange(200)],
    exclude: [],
    broker: 12345,
    address: "127.0.0.1",
    dev: true,
    apiPort: 0,
    stateFile: join(dir, "configs.json"),
    certFile: join(dir, "server-cert.pem"),
    keyFile: join(dir, "server-key.pem"),
    logDir: join(dir, "log"),
    logLevel: "debug",
    logFormat: "text",
    ...overrides,
  };
  const lines: string[] = [];
  const log = createLogger({ level: settings.logLevel, logDir: settings.logDir, write: (line) => void lines.push(line) });
  let daemon: Daemon;
  try {
    daemon = await startDaemon({ settings, log, clock: options.clock, hostname: options.hostname ?? "127.0.0.1", shutdownGraceMs: 1000, relayLimits: options.relayLimits });
  } catch (error) {
    log.close();
    if (!options.dir && !options.keepDir) rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const url = `${settings.dev ? "http" : "https"}://${options.hostname ?? "127.0.0.1"}:${daemon.apiPort}`;
  return {
    daemon,
    settings,
    dir,
    url,
    lines,
    async post(path, fields = {}, { json = false } = {}) {
      const response = await fetch(`${url}${path}`, {
        method: "POST",
        headers: { "content-type": json ? "application/json" : "application/x-www-form-urlencoded" },
        body: json ? JSON.stringify(fields) : new URLSearchParams(fields as Record<string, string>).toString(),
        tls: { rejectUnauthorized: false },
      } as RequestInit);
      const text = await response.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      return { status: response.status, body, text, type: response.headers.get("content-type") };
    },
    async [Symbol.asyncDispose]() {
      await daemon.stop();
      if (!options.dir && !options.keepDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves true when a TCP connection to 127.0.0.1:port is accepted, false when refused. */
export async function canConnect(port: number): Promise<boolean> {
  const { promise, resolve } = Promise.withResolvers<boolean>();
  try {
    const socket = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: { data() {}, open: () => resolve(true), error: () => resolve(false), connectError: () => resolve(false), close() {} },
    });
    const result = await promise;
    socket.end();
    return result;
  } catch {
    return false;
  }
}

/** A response body as loosely typed JSON, for assertions. */
export const json = (response: Response): Promise<any> => response.json();
