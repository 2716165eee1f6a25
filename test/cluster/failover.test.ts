// Failover as it runs: three etcd members, two compiled Connectors on two "machines" (network namespaces), a
// floating address; kill -9 the active one, move the address, and the agents' pools carry on through the other.
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { randomPortRange } from "../support/daemon.ts";
import { haveEtcd, startEtcdCluster } from "../support/etcd.ts";
import { ensureExecutable, freePort } from "../support/executable.ts";
import { createFloatingNet } from "../support/floating.ts";
import { runGoAgent } from "../support/go-agent.ts";
import { canCreateHosts } from "../support/netns.ts";
import { tempDir } from "../support/temp-dir.ts";
import { makeTestCert } from "../support/tls.ts";

interface Link {
  send(text: string): void;
  /** Resolves with the first `length` bytes received after AUTHORIZED. */
  read(length: number): Promise<string>;
  close(): void;
}

/** A private agent's connection over TLS: passcode, AUTHORIZED, then payload; rejects if refused within 2 s. */
async function privateLink(host: string, port: number, passcode: string, ca: string): Promise<Link> {
  let text = "";
  let authorized = false;
  const ready = Promise.withResolvers<void>();
  let waiting: { length: number; resolve: (s: string) => void } | undefined;
  const check = () => {
    if (waiting && text.length >= waiting.length) waiting.resolve(text.slice(0, waiting.length));
  };
  const timer = setTimeout(() => ready.reject(new Error("no AUTHORIZED within 2 s")), 2000);
  const socket = await Bun.connect({
    hostname: host,
    port,
    tls: { ca },
    socket: {
      open: (s) => void s.write(passcode),
      data(_, chunk) {
        text += chunk.toString("latin1");
        if (!authorized && text.startsWith("AUTHORIZED")) {
          authorized = true;
          text = text.slice(10);
          ready.resolve();
        }
        check();
      },
      close: () => ready.reject(new Error("closed")),
      error: (_, error) => ready.reject(error),
      connectError: (_, error) => ready.reject(error),
    },
  });
  try {
    await ready.promise;
  } catch (error) {
    socket.end();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return {
    send: (t) => void socket.write(t),
    read: (length) => new Promise((resolve) => ((waiting = { length, resolve }), check())),
    close: () => socket.end(),
  };
}

/** Both agents of a private mapping connect and one message crosses each way; rejects on any failure (bounded). */
async function privateRoundTrip(host: string, mapping: { port1: number; port2: number; passcode1: string; passcode2: string }, ca: string): Promise<void> {
  const one = await privateLink(host, mapping.port1, mapping.passcode1, ca);
  try {
    const two = await privateLink(host, mapping.port2, mapping.passcode2, ca);
    try {
      one.send("ping-from-one");
      two.send("pong-from-two");
      const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error("no relay within 2 s")), 2000));
      const [a, b] = await Promise.race([Promise.all([two.read(13), one.read(13)]), timeout]);
      if (a !== "ping-from-one" || b !== "pong-from-two") throw new Error(`relayed ${a} / ${b}`);
    } finally {
      two.close();
    }
  } finally {
    one.close();
  }
}

/** Retries `attempt` until it succeeds, at most `ms`; resolves with the seconds since `since`. */
async function firstSuccess(attempt: () => Promise<unknown>, since: number, ms: number, what: string): Promise<number> {
  let last: unknown;
  while (performance.now() - since < ms) {
    try {
      await attempt();
      return (performance.now() - since) / 1000;
    } catch (error) {
      last = error;
      await Bun.sleep(20);
    }
  }
  throw new Error(`${what} did not succeed within ${ms} ms: ${String(last)}`);
}

describe.skipIf(!haveEtcd || !canCreateHosts)("failover", () => {
  test("kill -9 of the active Connector: the address moves, public and private mappings relay through the other within 5 s", async () => {
    const exe = ensureExecutable();
    using net = createFloatingNet(2);
    await using etcd = await startEtcdCluster(3, net.hostAddress);
    using cert = makeTestCert({ ips: [net.floating, ...net.machines.map((m) => m.address)] });
    using dir = tempDir();
    const apiPort = freePort();
    const range = randomPortRange(50);
    const children: Subprocess[] = [];
    const start = async (index: number) => {
      const home = join(dir.path, `m${index}`);
      mkdirSync(home, { recursive: true });
      writeFileSync(join(home, "iofog-connector.conf"), JSON.stringify({
        ports: [`${range.from}-${range.to}`], broker: 12345, address: net.floating, apiPort, logDir: "log",
        certFile: cert.certFile, keyFile: cert.keyFile,
        cluster: { etcd: etcd.endpoints, prefix: "/iofog-connector/failover/", member: `connector-${"ab"[index]}` },
      }));
      const child = Bun.spawn(net.on(index, [exe, "start", "--config", join(home, "iofog-connector.conf")]), { stdout: "ignore", stderr: "pipe", stdin: "ignore" });
      children[index] = child;
      await firstSuccess(() => api(net.machines[index]!.address, "/api/v2/status", { mappingid: "all" }), performance.now(), 15_000, `connector ${index} start`);
    };
    const api = async (host: string, path: string, fields: Record<string, string>) => {
      const response = await fetch(`https://${host}:${apiPort}${path}`, { method: "POST", body: new URLSearchParams(fields).toString(), headers: { "content-type": "application/x-www-form-urlencoded" }, tls: { ca: cert.cert } } as RequestInit);
      const body = await response.json() as any;
      if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(body)}`);
      return body;
    };
    try {
      await start(0);
      await start(1);
      net.moveFloating(0);
      // The Controller knows one Connector: the floating address.
      const pub = await api(net.floating, "/api/v2/mapping/add", { mapping: JSON.stringify({ type: "public", maxconnections: 60, heartbeatabsencethreshold: 200000 }) });
      const priv = await api(net.floating, "/api/v2/mapping/add", { mapping: JSON.stringify({ type: "private", maxconnectionsport1: 1, maxconnectionsport2: 1, heartbeatabsencethresholdport1: 200000, heartbeatabsencethresholdport2: 200000 }) });
      await firstSuccess(() => api(net.machines[1]!.address, "/api/v2/status", { mappingid: priv.id }), performance.now(), 2000, "the standby opens the mappings");

      const caFile = join(dir.path, "ca.pem");
      writeFileSync(caFile, cert.cert);
      await using agent = runGoAgent<{ served: number; dials: number }>("public-agent", { addr: `${net.floating}:${pub.port1}`, passcode: pub.passcode1, ca: caFile, pool: 4, requests: 2, deadline: "40s" });
      const client = (request: string) =>
        runGoAgent<{ firstDifference: number; announced: number }>("public-client", { addr: `${net.floating}:${pub.port2}`, ca: caFile, request, deadline: "3s" }).result.then((r) => {
          if (r.announced < 0 || r.firstDifference !== -1) throw new Error(`answer ${JSON.stringify(r)}`);
        });
      await firstSuccess(() => client("GET /through-a"), performance.now(), 10_000, "a public client through A");
      await privateRoundTrip(net.floating, priv, cert.cert);

      const killed = performance.now();
      children[0]!.kill("SIGKILL");
      await children[0]!.exited;
      net.moveFloating(1);
      const publicSeconds = await firstSuccess(() => client("GET /through-b"), killed, 20_000, "a public client through B");
      const privateSeconds = await firstSuccess(() => privateRoundTrip(net.floating, priv, cert.cert), killed, 20_000, "the private agents through B");
      const report = await agent.result;
      expect(report.served).toBe(2);
      const status = await api(net.floating, "/api/v2/status", { mappingid: "all" });
      expect(status.cluster.member).toBe("connector-b");
      console.log(`failover: kill -9 of A to a public client relayed through B by the agent's reconnected pool: ${publicSeconds.toFixed(2)} s; private agents relayed through B: ${privateSeconds.toFixed(2)} s`);
      expect(publicSeconds).toBeLessThanOrEqual(5);
      expect(privateSeconds).toBeLessThanOrEqual(5);
    } finally {
      for (const child of children) {
        child?.kill("SIGKILL");
        await child?.exited;
      }
    }
  }, 90_000);
});
