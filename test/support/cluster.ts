// Members of one cluster as in-process Connectors, each on a loopback address of its own (127.0.0.2, 127.0.0.3, ...).
import type { Settings } from "../../src/config/load.ts";
import { startTestDaemon, type TestDaemon } from "./daemon.ts";

export const PUBLIC = JSON.stringify({ type: "public", maxconnections: 60, heartbeatabsencethreshold: 0 });
export const PRIVATE = JSON.stringify({ type: "private", maxconnectionsport1: 1, maxconnectionsport2: 1, heartbeatabsencethresholdport1: 0, heartbeatabsencethresholdport2: 0 });

export interface MemberOptions {
  endpoints: string[];
  prefix: string;
  member: string;
  /** The member's own loopback address. */
  host: string;
  ports: { from: number; to: number }[];
  dir?: string;
  overrides?: Partial<Settings>;
  /** TLS to etcd: the cluster block's caFile, certFile, keyFile. */
  tlsFiles?: { caFile: string; certFile: string; keyFile: string };
}

export function startMember(options: MemberOptions): Promise<TestDaemon> {
  const { endpoints, prefix, member, host, ports, dir } = options;
  return startTestDaemon({ ports, cluster: { etcd: endpoints, prefix, member, ...options.tlsFiles }, ...options.overrides }, { hostname: host, dir, keepDir: dir !== undefined });
}

/** A unique prefix per test, so that tests share one etcd cluster without seeing each other. */
export const freshPrefix = (name: string) => `/iofog-test/${process.pid}/${name}-${Math.random().toString(36).slice(2, 8)}/`;

/**
 * Relays one message through a public mapping on `host`: an agent connection on port1 with the passcode,
 * a client on port2; resolves true when the agent receives the client's bytes (within 5 s).
 */
export async function relaysPublic(host: string, mapping: { port1: number; port2: number; passcode1: string }): Promise<boolean> {
  const got = Promise.withResolvers<boolean>();
  const timer = setTimeout(() => got.resolve(false), 5000);
  let agentText = "";
  const agent = await Bun.connect({
    hostname: host,
    port: mapping.port1,
    socket: {
      open: (s) => void s.write(mapping.passcode1),
      data(_, chunk) {
        agentText += chunk.toString("latin1");
        if (agentText.includes("hello through the cluster")) got.resolve(true);
      },
      close: () => got.resolve(false),
      error: () => got.resolve(false),
      connectError: () => got.resolve(false),
    },
  }).catch(() => undefined);
  const client = agent && (await Bun.connect({
    hostname: host,
    port: mapping.port2,
    socket: { open: (s) => void s.write("hello through the cluster"), data() {}, connectError: () => got.resolve(false) },
  }).catch(() => undefined));
  const ok = client !== undefined && (await got.promise);
  clearTimeout(timer);
  agent?.end();
  client?.end();
  return ok;
}

/** Waits (bounded) until `check` holds, polling every 10 ms; returns how long it took. */
export async function waitFor(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<number> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > ms) throw new Error(`timed out after ${ms} ms: ${what}`);
    await Bun.sleep(10);
  }
  return performance.now() - started;
}
