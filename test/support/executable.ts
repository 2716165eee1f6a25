// The compiled executable, run as an operator would: a settings file in a temp dir, commands with --config.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { randomPortRange } from "./daemon.ts";

const root = join(import.meta.dir, "../..");
export const EXECUTABLE = join(root, "dist", `iofog-connector-linux-${process.arch}`);

/** Builds the executable for this machine when a test run starts without one. */
export function ensureExecutable(): string {
  if (!existsSync(EXECUTABLE)) {
    const built = Bun.spawnSync([process.execPath, join(root, "scripts/build.ts"), "--host"], { stdout: "inherit", stderr: "inherit" });
    if (built.exitCode !== 0) throw new Error("building the executable failed");
  }
  return EXECUTABLE;
}

/** A free TCP port on 127.0.0.1, found by binding port 0. */
export function freePort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const { port } = listener;
  listener.stop(true);
  return port;
}

/** Runs `fn` while `child` is stopped with SIGSTOP (alive, holding its sockets and locks, answering nothing). */
export async function whileStopped<T>(child: Subprocess, fn: () => Promise<T>): Promise<T> {
  child.kill("SIGSTOP");
  try {
    return await fn();
  } finally {
    child.kill("SIGCONT");
  }
}

export interface Instance {
  dir: string;
  config: string;
  apiPort: number;
  url: string;
  /** Runs one CLI command to completion (bounded) and returns its output and exit code. */
  run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Starts `start` in the background and resolves once the API answers. */
  start(): Promise<Subprocess<"ignore", "pipe", "pipe">>;
  post(path: string, fields: Record<string, string>): Promise<any>;
  [Symbol.asyncDispose](): Promise<void>;
}

export function writeSettings(dir: string, settings: Record<string, unknown>): string {
  const config = join(dir, "iofog-connector.conf");
  writeFileSync(config, JSON.stringify(settings, null, 2));
  return config;
}

export function instance(extra: Record<string, unknown> = {}, options: { wrap?: string[]; dir?: string; env?: Record<string, string> } = {}): Instance {
  const exe = ensureExecutable();
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "iofog-exe-"));
  const apiPort = freePort();
  const range = randomPortRange(100);
  const config = writeSettings(dir, {
    ports: [`${range.from}-${range.to}`], exclude: [], broker: 12345, address: "127.0.0.1", dev: true,
    apiPort, logDir: "log", ...extra,
  });
  const children: Subprocess[] = [];
  const wrap = options.wrap ?? [];
  const url = `http://127.0.0.1:${apiPort}`;
  const env = { ...process.env, ...options.env };

  async function run(...args: string[]) {
    const child = Bun.spawn([...wrap, exe, ...args, "--config", config], { stdout: "pipe", stderr: "pipe", timeout: 30_000, env });
    const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    return { code, stdout, stderr };
  }

  return {
    dir,
    config,
    apiPort,
    url,
    run,
    async start() {
      const child = Bun.spawn([...wrap, exe, "start", "--config", config], { stdout: "pipe", stderr: "pipe", stdin: "ignore", env });
      children.push(child);
      for (let i = 0; i < 200; i++) {
        if (child.exitCode !== null) break;
        const ok = await fetch(`${url}/api/v2/commandline`, { method: "POST", body: "command=version" }).then((r) => r.ok, () => false);
        if (ok) return child;
        await Bun.sleep(50);
      }
      child.kill();
      const err = await new Response(child.stderr).text();
      throw new Error(`the Connector did not start: ${err}`);
    },
    async post(path, fields) {
      const response = await fetch(`${url}${path}`, { method: "POST", body: new URLSearchParams(fields).toString(), headers: { "content-type": "application/x-www-form-urlencoded" } });
      return response.json();
    },
    async [Symbol.asyncDispose]() {
      for (const child of children) {
        child.kill("SIGKILL");
        await child.exited;
      }
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
