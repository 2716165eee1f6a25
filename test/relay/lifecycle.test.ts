// Opening, retrying, closing, reloading the certificate and shutting down: nothing is left bound, open or scheduled.
import { expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { isConnectorError } from "../../src/errors.ts";
import { systemClock } from "../../src/clock.ts";
import type { RelayMapping } from "../../src/relay/types.ts";
import { dialAgent, PublicAgent } from "../support/agent-client.ts";
import { connect, echoServer, freePorts, until, within } from "../support/endpoint.ts";
import { countingClock } from "../support/counting-clock.ts";
import { manualClock } from "../support/manual-clock.ts";
import { startRelay } from "../support/relay-harness.ts";
import { makeTestCert } from "../support/tls.ts";

const mappingOn = (port1: number, port2: number): RelayMapping => ({
  id: randomUUID(),
  kind: "public",
  port1,
  port2,
  passcode1: randomUUID(),
  passcode2: "",
  maxConnections1: 60,
  maxConnections2: 0,
  heartbeatThreshold1: 0,
  heartbeatThreshold2: 0,
});

const canBind = (port: number) => {
  try {
    Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {} } }).stop(true);
    return true;
  } catch {
    return false;
  }
};

const occupy = (port: number) => Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {} } });

for (const busy of [1, 2] as const) {
  test(`a busy port${busy} rejects open with port_in_use and leaves nothing bound`, async () => {
    await using r = startRelay();
    const mapping = mappingOn(...(freePorts(2) as [number, number]));
    const blocker = occupy(busy === 1 ? mapping.port1 : mapping.port2);
    try {
      const error = await r.relay.open(mapping, { retry: false }).then(() => undefined, (e: unknown) => e);
      expect(isConnectorError(error, "port_in_use")).toBe(true);
      expect((error as { details: { port: number } }).details.port).toBe(blocker.port);
      expect(r.relay.state(mapping.id)).toBeUndefined();
      expect(canBind(busy === 1 ? mapping.port2 : mapping.port1)).toBe(true);
    } finally {
      blocker.stop(true);
    }
  });
}

test("open with retry: a busy port is inactive, retried every bindRetryMs, and serves once free (manual clock)", async () => {
  const clock = manualClock();
  await using r = startRelay({ clock, bindRetryMs: 1000 });
  const mapping = mappingOn(...(freePorts(2) as [number, number]));
  const blocker = occupy(mapping.port2);
  await r.relay.open(mapping, { retry: true });
  expect(r.relay.state(mapping.id)!.port1.active).toBe(true);
  expect(r.relay.state(mapping.id)!.port2.active).toBe(false);
  clock.advance(1000);
  expect(r.relay.state(mapping.id)!.port2.active).toBe(false);
  blocker.stop(true);
  clock.advance(999);
  expect(r.relay.state(mapping.id)!.port2.active).toBe(false);
  clock.advance(1);
  expect(r.relay.state(mapping.id)!.port2.active).toBe(true);
  await using service = echoServer();
  await using agent = await new PublicAgent({ port: mapping.port1, passcode: mapping.passcode1, connections: 1, target: { port: service.port } }).start();
  await using client = await connect({ port: mapping.port2 });
  await client.write(Buffer.from("served"));
  await client.waitForBytes(6);
});

test("an id already open is refused", async () => {
  await using r = startRelay();
  const m = await r.open("public");
  const [port1, port2] = freePorts(2) as [number, number];
  const again = await r.relay.open({ ...m, port1, port2 }, { retry: false }).then(() => undefined, (e: unknown) => e);
  expect(isConnectorError(again, "conflict")).toBe(true);
});

test("close(id) closes every connection of the mapping, frees both ports and cancels its timers", async () => {
  const clock = countingClock(systemClock());
  await using r = startRelay({ clock, bindRetryMs: 50 });
  const m = await r.open("public");
  await using service = echoServer();
  await using agent = await new PublicAgent({ ...r.agent(m), connections: 3, target: { port: service.port } }).start();
  const served = await connect({ port: m.port2 });
  await served.write(Buffer.from("hello"));
  await served.waitForBytes(5);
  const stranger = await connect({ port: m.port1 });
  // A second mapping, one of whose ports is retrying.
  const other = mappingOn(...(freePorts(2) as [number, number]));
  const blocker = occupy(other.port2);
  await r.relay.open(other, { retry: true });
  await until(() => r.relay.state(m.id)!.port1.pending === 1, 5000, "stranger pending");
  expect(clock.live).toBe(2); // the sweep and one bind retry
  const links = [...agent.links];

  r.relay.close(m.id);
  await within(5000, "every connection closed", Promise.all([served.closed, stranger.closed, ...links.map((l) => l.closed)]));
  expect(r.relay.state(m.id)).toBeUndefined();
  expect(canBind(m.port1)).toBe(true);
  expect(canBind(m.port2)).toBe(true);
  r.relay.close(other.id);
  blocker.stop(true);
  expect(clock.live).toBe(0);
  expect(r.relay.states()).toEqual([]);
  r.relay.close("unknown id");
});

test("shutdown flushes what was already read, then closes; the rest is dropped at the grace deadline", async () => {
  await using r = startRelay();
  const m = await r.open("private");
  const a = await dialAgent(r.agent(m, 1));
  const b = await dialAgent(r.agent(m, 2));
  // b reads nothing, so the engine holds a queue toward it; a keeps sending.
  b.ep.socket.pause();
  void a.send(new Uint8Array(16 << 20)).catch(() => {});
  // The engine holds a queue toward b: it has read more than it could write.
  const queued = (s = r.relay.state(m.id)!) => s.port1.bytesIn - s.port2.bytesOut;
  await until(() => queued() > 0, 5000, "a queue toward b");
  const stopped = r.relay.shutdown(5000);
  const read = r.relay.state(m.id)?.port1.bytesIn ?? -1;
  b.ep.socket.resume();
  await within(5000, "shutdown", stopped);
  await within(5000, "both closed", Promise.all([a.closed, b.closed]));
  // Everything the engine had read from a reached b before its FIN.
  expect(b.ep.received).toBe(read);
  expect(canBind(m.port1) && canBind(m.port2)).toBe(true);
  await expect(r.relay.open(mappingOn(...(freePorts(2) as [number, number])), { retry: false })).rejects.toThrow();

  await using r2 = startRelay();
  const m2 = await r2.open("private");
  const c = await dialAgent(r2.agent(m2, 1));
  const d = await dialAgent(r2.agent(m2, 2));
  d.ep.socket.pause();
  void c.send(new Uint8Array(16 << 20)).catch(() => {});
  await until(() => r2.relay.state(m2.id)!.port1.bytesIn > r2.relay.state(m2.id)!.port2.bytesOut, 5000, "a queue toward d");
  const started = Date.now();
  await within(5000, "shutdown after the grace", r2.relay.shutdown(200));
  expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  await within(5000, "dropped", Promise.all([c.closed, d.closed]));
});

test("setTls: listeners serve the new certificate from now on; connections already open carry on", async () => {
  using oldCert = makeTestCert();
  using newCert = makeTestCert();
  await using r = startRelay({ tls: oldCert });
  const m = await r.open("private", { maxConnections1: 5 });
  const before = await dialAgent({ ...r.agent(m, 1), ca: oldCert.cert, heartbeatMs: 20 });
  r.relay.setTls(newCert);
  expect(r.relay.state(m.id)!.port1.active).toBe(true);
  const after = await dialAgent({ ...r.agent(m, 1), ca: newCert.cert });
  await expect(dialAgent({ ...r.agent(m, 1), ca: oldCert.cert })).rejects.toThrow();
  // The connection from before the reload is still served (its heartbeats are answered).
  const heard = before.heartbeatsHeard;
  await until(() => before.heartbeatsHeard > heard + 2, 5000, "heartbeats answered after the reload");
  expect(r.relay.state(m.id)!.port1.authorized).toBe(2);
  before.ep.socket.terminate();
  after.ep.socket.terminate();
});

test("counters: lastActivity is the time of the last payload, 0 before any", async () => {
  const clock = manualClock(1_800_000_000_000);
  await using r = startRelay({ clock });
  const m = await r.open("private");
  const a = await dialAgent(r.agent(m, 1));
  const b = await dialAgent(r.agent(m, 2));
  expect(r.relay.state(m.id)!.port1.lastActivity).toBe(0);
  clock.advance(5000);
  await a.send(Buffer.from("x"));
  await b.ep.waitForBytes(1);
  expect(r.relay.state(m.id)!.port1.lastActivity).toBe(1_800_000_005_000);
  expect(r.relay.state(m.id)!.port2.lastActivity).toBe(1_800_000_005_000);
  a.ep.socket.terminate();
  b.ep.socket.terminate();
});

const openFds = () => readdirSync("/proc/self/fd").length;

test("1,000 mappings opened, used and closed leave no file descriptor behind", async () => {
  await using r = startRelay();
  const cycle = async () => {
    const m = await r.open("private");
    const [a, b] = await Promise.all([dialAgent(r.agent(m, 1)), dialAgent(r.agent(m, 2))]);
    await a.send(Buffer.from("ping"));
    await b.ep.waitForBytes(4);
    r.relay.close(m.id);
    await within(5000, "closed by the engine", Promise.all([a.closed, b.closed]));
  };
  await cycle();
  Bun.gc(true);
  const baseline = openFds();
  for (let batch = 0; batch < 40; batch++) await Promise.all(Array.from({ length: 25 }, cycle));
  Bun.gc(true);
  await until(() => openFds() <= baseline, 5000, `fds back to ${baseline} (now ${openFds()})`);
  expect(openFds()).toBe(baseline);
  expect(r.relay.states()).toEqual([]);
}, 30_000);
