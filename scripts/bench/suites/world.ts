// The long-lived parties of the relay measurements: a plain and a TLS Connector and one HAProxy, all idle between runs.
import { mkdirSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { freePort, pool } from "../lib/ports.ts";
import type { CertFiles } from "../lib/tls-cert.ts";
import { startConnector, type Connector } from "../targets/connector.ts";
import { startHaproxy, type Haproxy } from "../targets/haproxy.ts";

/** Fixed ports of the direct and HAProxy paths, one set for plaintext and one for TLS. */
export interface FixedPorts {
  /** Where the receiving generator listens for the direct path. */
  direct: number;
  /** Where HAProxy listens. */
  proxy: number;
  /** Where HAProxy forwards to (the receiving generator listens there). */
  behind: number;
}

/** HAProxy's nbthread: one per core, as the Connector's relay threads. */
export const HAPROXY_THREADS = availableParallelism();

export interface World {
  certs: CertFiles;
  connector: { plain: Connector; tls: Connector };
  haproxy: Haproxy | undefined;
  ports: { plain: FixedPorts; tls: FixedPorts };
  stop(): Promise<void>;
}

export interface WorldOptions {
  exe: string;
  dir: string;
  certs: CertFiles;
  /** Two disjoint pool ranges, each a few hundred ports. */
  pools: { plain: [number, number]; tls: [number, number] };
  /** Whether to start HAProxy (the baseline build's world needs none). Default true. */
  haproxy?: boolean;
  /** Settings both Connectors get besides the usual ones, e.g. { relayThreads: 0 }. */
  settings?: Record<string, unknown>;
}

export async function startWorld(options: WorldOptions): Promise<World> {
  const fixed = (): FixedPorts => ({ direct: freePort(), proxy: freePort(), behind: freePort() });
  const ports = { plain: fixed(), tls: fixed() };
  const started: Array<{ stop(): Promise<void> }> = [];
  try {
    const plain = await startConnector({ exe: options.exe, dir: dirOf(options.dir, "connector-plain"), pool: pool(...options.pools.plain), settings: options.settings });
    started.push(plain);
    const tls = await startConnector({
      exe: options.exe,
      dir: dirOf(options.dir, "connector-tls"),
      pool: pool(...options.pools.tls),
      tls: options.certs,
      settings: options.settings,
    });
    started.push(tls);
    const haproxy = options.haproxy === false ? undefined : await startHaproxy({
      dir: dirOf(options.dir, "haproxy"),
      certs: options.certs,
      threads: HAPROXY_THREADS,
      routes: [
        { listen: ports.plain.proxy, server: ports.plain.behind, tls: false },
        { listen: ports.tls.proxy, server: ports.tls.behind, tls: true },
      ],
    });
    if (haproxy !== undefined) started.push(haproxy);
    return {
      certs: options.certs,
      connector: { plain, tls },
      haproxy,
      ports,
      async stop() {
        await Promise.all(started.map((s) => s.stop()));
      },
    };
  } catch (error) {
    await Promise.all(started.map((s) => s.stop()));
    throw error;
  }
}

function dirOf(root: string, name: string): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}
