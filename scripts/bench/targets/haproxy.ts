// The reference relay: Debian's HAProxy 2.6 in `mode tcp`, with the config written for this run.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnTracked, stopChild } from "../lib/children.ts";
import { hardNofile } from "../lib/limits.ts";
import type { CertFiles } from "../lib/tls-cert.ts";
import { pollUntil } from "../lib/wait.ts";
import { connectable } from "./probe.ts";

/** One listening port of HAProxy and the port it forwards to. */
export interface Route {
  listen: number;
  server: number;
  tls: boolean;
}

export interface HaproxyOptions {
  dir: string;
  routes: Route[];
  certs?: CertFiles;
  threads: number;
}

export interface Haproxy {
  readonly pid: number;
  readonly version: string;
  stop(): Promise<void>;
}

/** Installs HAProxy with apt-get when it is missing and this process may (root); otherwise says how. */
export function ensureHaproxy(): string {
  if (!Bun.which("haproxy")) {
    if (process.getuid?.() !== 0) throw new Error("HAProxy is missing: install it with `sudo apt-get install -y haproxy`, then run the benchmark again.");
    console.error("bench: installing HAProxy (apt-get install -y haproxy)");
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    let result = Bun.spawnSync(["apt-get", "install", "-y", "haproxy"], { env, stdout: "ignore", stderr: "pipe", timeout: 300_000 });
    if (result.exitCode !== 0) {
      Bun.spawnSync(["apt-get", "update"], { env, stdout: "ignore", stderr: "ignore", timeout: 300_000 });
      result = Bun.spawnSync(["apt-get", "install", "-y", "haproxy"], { env, stdout: "ignore", stderr: "pipe", timeout: 300_000 });
    }
    if (result.exitCode !== 0) throw new Error(`apt-get install -y haproxy failed: ${result.stderr.toString().slice(-500)}`);
  }
  const version = Bun.spawnSync(["haproxy", "-v"]).stdout.toString().split("\n")[0] ?? "";
  return version.replace(/ - https?:.*/, "").trim();
}

/** The config: every route a frontend/backend pair; splice for plaintext, TLS 1.3 AES-128-GCM like Bun's default. */
function config(options: HaproxyOptions): string {
  const maxconn = Math.floor(hardNofile() / 2.6) - 200; // HAProxy wants ~2.5 descriptors per connection (splice pipes)
  const lines = [
    "global",
    `  nbthread ${options.threads}`,
    `  maxconn ${maxconn}`,
    "  ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256",
    "  ssl-default-server-ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256",
    "defaults",
    "  mode tcp",
    `  maxconn ${maxconn}`,
    "  timeout connect 5s",
    "  timeout client 120s",
    "  timeout server 120s",
  ];
  for (const [i, route] of options.routes.entries()) {
    const crt = route.tls ? ` ssl crt ${options.certs!.combined}` : "";
    lines.push(
      `frontend f${i}`,
      `  bind 127.0.0.1:${route.listen}${crt}`,
      ...(route.tls ? [] : ["  option splice-auto"]),
      `  default_backend b${i}`,
      `backend b${i}`,
      ...(route.tls ? [] : ["  option splice-auto"]),
      `  server s${i} 127.0.0.1:${route.server}${route.tls ? " ssl verify none" : ""}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

export async function startHaproxy(options: HaproxyOptions): Promise<Haproxy> {
  const version = ensureHaproxy();
  const file = join(options.dir, "haproxy.cfg");
  writeFileSync(file, config(options));
  const check = Bun.spawnSync(["haproxy", "-c", "-q", "-f", file], { stderr: "pipe", timeout: 10_000 });
  if (check.exitCode !== 0) throw new Error(`haproxy rejects ${file}: ${check.stderr.toString()}`);
  const child = spawnTracked(["haproxy", "-db", "-f", file], { stdout: "ignore", stderr: Bun.file(join(options.dir, "haproxy.log")) });
  await pollUntil(
    async () => {
      if (child.exitCode !== null) throw new Error(`haproxy exited with code ${child.exitCode}; see ${join(options.dir, "haproxy.log")}`);
      for (const route of options.routes) if (!(await connectable(route.listen))) return undefined;
      return true;
    },
    10_000,
    "HAProxy to listen",
  );
  return { pid: child.pid, version, stop: async () => void (await stopChild(child)) };
}
