// A real etcd cluster (Debian's etcd-server) of three members on loopback ports, in a temp dir removed on dispose.
import { afterAll, beforeAll } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { freePort } from "./executable.ts";
import type { TestCa } from "./tls.ts";

export const haveEtcd = Bun.which("etcd") !== null;

export interface EtcdCluster {
  /** Client URLs, one per member. */
  endpoints: string[];
  dir: string;
  /** SIGKILLs member `index`. */
  kill(index: number): Promise<void>;
  /** Starts member `index` again on its data directory and waits until it is healthy. */
  restart(index: number): Promise<void>;
  /** Stops every member and removes the data. */
  [Symbol.asyncDispose](): Promise<void>;
}

interface Member {
  name: string;
  client: number;
  peer: number;
  child?: Subprocess;
}


/**
 * Starts `size` members on `host` (loopback, or an address of a link the test made) and resolves once the
 * cluster has a leader and answers.
 */
export async function startEtcdCluster(size = 3, host = "127.0.0.1", tls?: TestCa): Promise<EtcdCluster> {
  const dir = mkdtempSync(join(tmpdir(), "iofog-etcd-"));
  const members: Member[] = Array.from({ length: size }, (_, i) => ({ name: `m${i}`, client: freePort(), peer: freePort() }));
  const url = (port: number) => `http://${host}:${port}`;
  const clientUrl = (port: number) => `${tls ? "https" : "http"}://${host}:${port}`;
  const initial = members.map((m) => `${m.name}=${url(m.peer)}`).join(",");
  const tlsFlags = tls ? ["--cert-file", tls.server.certFile, "--key-file", tls.server.keyFile, "--client-cert-auth", "--trusted-ca-file", tls.caFile] : [];
  const spawn = (m: Member, state: "new" | "existing") => {
    m.child = Bun.spawn([
      "etcd", "--name", m.name, "--data-dir", join(dir, m.name),
      "--listen-client-urls", clientUrl(m.client), "--advertise-client-urls", clientUrl(m.client), ...tlsFlags,
      "--listen-peer-urls", url(m.peer), "--initial-advertise-peer-urls", url(m.peer),
      "--initial-cluster", initial, "--initial-cluster-state", state, "--initial-cluster-token", `iofog-${process.pid}`,
      "--heartbeat-interval", "50", "--election-timeout", "500", "--logger", "zap", "--log-outputs", join(dir, `${m.name}.log`),
    ], { stdout: "ignore", stderr: "ignore", stdin: "ignore" });
  };
  const cluster: EtcdCluster = {
    endpoints: members.map((m) => clientUrl(m.client)),
    dir,
    async kill(index) {
      const m = members[index]!;
      m.child?.kill("SIGKILL");
      await m.child?.exited;
      m.child = undefined;
    },
    async restart(index) {
      const m = members[index]!;
      spawn(m, "existing");
      await healthy([clientUrl(m.client)], tls);
    },
    async [Symbol.asyncDispose]() {
      for (const m of members) {
        m.child?.kill("SIGKILL");
        await m.child?.exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    for (const m of members) spawn(m, "new");
    await healthy(cluster.endpoints, tls);
  } catch (error) {
    await cluster[Symbol.asyncDispose]();
    throw error;
  }
  return cluster;
}

/** Waits (at most 20 s) until every endpoint reports itself healthy, which needs a leader. */
async function healthy(endpoints: string[], tls?: TestCa): Promise<void> {
  const fetchTls = tls && { ca: await Bun.file(tls.caFile).text(), cert: await Bun.file(tls.client.certFile).text(), key: await Bun.file(tls.client.keyFile).text() };
  const deadline = Date.now() + 20_000;
  for (const endpoint of endpoints) {
    for (;;) {
      const ok = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000), tls: fetchTls } as RequestInit).then(
        async (r) => r.ok && (await r.json() as { health?: string }).health === "true",
        () => false,
      );
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`etcd at ${endpoint} did not become healthy within 20 s`);
      await Bun.sleep(100);
    }
  }
}

/** One cluster for the test file: started before its first test (when etcd is installed), removed after its last. */
export function etcdForFile(): () => EtcdCluster {
  let cluster: EtcdCluster | undefined;
  beforeAll(async () => {
    if (haveEtcd) cluster = await startEtcdCluster();
  });
  afterAll(async () => {
    await cluster?.[Symbol.asyncDispose]();
  });
  return () => cluster!;
}
