// Public mappings: held clients, the hold deadline, close propagation with flush, and agent connections used once.
import { expect, test } from "bun:test";
import { dialAgent, PublicAgent } from "../support/agent-client.ts";
import { connect, echoServer, serve, until, within, type Endpoint } from "../support/endpoint.ts";
import { manualClock } from "../support/manual-clock.ts";
import { seededRandom } from "../support/random.ts";
import { startRelay } from "../support/relay-harness.ts";
import { makeTestCert } from "../support/tls.ts";

const sha256 = (bytes: Uint8Array) => new Bun.CryptoHasher("sha256").update(bytes).digest("hex");

test("a client that finds no free agent connection is held, read up to publicHoldBytes, then served with nothing lost", async () => {
  await using r = startRelay({ publicHoldBytes: 64 * 1024 });
  const m = await r.open("public");
  await using service = echoServer();
  await using client = await connect({ port: m.port2 });
  const early = seededRandom(1).bytes(4 << 20);
  void client.write(early);
  await until(() => r.relay.state(m.id)!.port2.paused === 1, 5000, "client held and paused at its bound");
  // Held means read only up to the bound (passed by at most one read), so that its close is noticed.
  expect(r.relay.state(m.id)!.port2.waiting).toBe(1);
  expect(r.relay.state(m.id)!.port2.bytesIn).toBeGreaterThanOrEqual(64 * 1024);
  expect(r.relay.state(m.id)!.port2.bytesIn).toBeLessThan(64 * 1024 + 1024 * 1024);
  await using agent = await new PublicAgent({ ...r.agent(m), connections: 1, target: { port: service.port } }).start();
  await client.waitForBytes(early.length);
  expect(client.digest()).toBe(sha256(early));
  const state = r.relay.state(m.id)!;
  expect(state.port2.waiting).toBe(0);
  expect(state.port2.bound).toBe(1);
  expect(state.port2.bytesIn).toBe(early.length);
  expect(state.port2.bytesOut).toBe(early.length);
});

test("a held client is closed after the hold deadline; one served before it stays (manual clock)", async () => {
  const clock = manualClock();
  await using r = startRelay({ clock, holdTimeoutMs: 10_000 });
  const m = await r.open("public");
  await using service = echoServer();
  await using first = await connect({ port: m.port2 });
  await using second = await connect({ port: m.port2 });
  await until(() => r.relay.state(m.id)!.port2.waiting === 2, 5000, "two held");
  clock.advance(9_000);
  // One agent connection arrives at 9 s: the oldest held client gets it.
  await using agent = await new PublicAgent({ ...r.agent(m), connections: 1, target: { port: service.port } }).start();
  await until(() => r.relay.state(m.id)!.port2.waiting === 1, 5000, "one bound");
  clock.advance(1_000);
  await within(5000, "the other one closed at 10 s", second.closed);
  expect(second.received).toBe(0);
  expect(first.isClosed).toBe(false);
  await first.write(Buffer.from("still here"));
  await first.waitForBytes(10);
  const state = r.relay.state(m.id)!.port2;
  expect(state.rejectedTimeout).toBe(1);
  expect(state.waiting).toBe(0);
});

for (const tls of [false, true]) {
  const mode = tls ? "TLS" : "plain";

  test(`${mode}: the agent side ends: the client gets every byte first, then FIN`, async () => {
    using cert = makeTestCert();
    await using r = startRelay(tls ? { tls: cert, ca: cert.cert } : {});
    const m = await r.open("public");
    const payload = seededRandom(2).bytes(8 << 20);
    // A microservice that answers the first read with 8 MiB and closes.
    await using service = serve((ep) => {
      ep.onRead = () => {
        ep.onRead = () => {};
        void ep.write(payload).then(() => ep.close());
      };
    });
    await using agent = await new PublicAgent({ ...r.agent(m), connections: 1, target: { port: service.port } }).start();
    const [link] = agent.links;
    await using client = await connect({ port: m.port2, ca: r.ca });
    // The client reads nothing for a while, so the engine holds a queue when the agent's FIN arrives.
    client.socket.pause();
    await client.write(Buffer.from("GET"));
    await until(() => r.relay.state(m.id)!.port1.bytesIn > 1 << 20, 5000, "agent side sending");
    await Bun.sleep(100);
    client.socket.resume();
    await within(10_000, "client closed", client.closed);
    expect(client.received).toBe(payload.length);
    expect(client.digest()).toBe(sha256(payload));
    // The agent connection that served it is gone and the agent dialled a fresh one.
    await within(5000, "used agent connection closed", link!.closed);
    await until(() => agent.links.size === 1 && !agent.links.has(link!), 5000, "a fresh agent connection");
    // The pair ends once the client's FIN answers the agent's (half-close), then the engine lets it go.
    await until(() => r.relay.state(m.id)!.port1.bound === 0, 5000, "the used pair released");
    expect(r.relay.state(m.id)!.port1.authorized).toBe(1);
  });

  test(`${mode}: the client ends: its last bytes reach the microservice, the agent connection is closed and never reused`, async () => {
    using cert = makeTestCert();
    await using r = startRelay(tls ? { tls: cert, ca: cert.cert } : {});
    const m = await r.open("public");
    const received: Endpoint[] = [];
    await using sink = serve((ep) => void received.push(ep));
    await using agent = await new PublicAgent({ ...r.agent(m), connections: 2, target: { port: sink.port } }).start();
    const before = new Set(agent.links);
    const payload = seededRandom(3).bytes(4 << 20);
    await using client = await connect({ port: m.port2, ca: r.ca });
    await client.write(payload);
    client.close();
    await until(() => received.length === 1 && received[0]!.received === payload.length, 10_000, "all bytes at the microservice");
    expect(received[0]!.digest()).toBe(sha256(payload));
    // Exactly one of the two agent connections served the client; the engine closed it.
    await until(() => [...before].filter((link) => link.ep.isClosed).length === 1, 5000, "the used connection closed");
    await until(() => agent.links.size === 2, 5000, "the agent dialled a fresh one");
    const fresh = [...agent.links].find((link) => !before.has(link))!;
    const unused = [...agent.links].find((link) => before.has(link))!;
    // The next two clients get the untouched connection and the fresh one, never the closed one.
    await using second = await connect({ port: m.port2, ca: r.ca });
    await using third = await connect({ port: m.port2, ca: r.ca });
    await second.write(Buffer.from("two"));
    await third.write(Buffer.from("three"));
    await until(() => received.length === 3, 5000, "two more microservice connections");
    expect(unused.payloadReads + fresh.payloadReads).toBe(2);
    const state = r.relay.state(m.id)!;
    expect(state.port1.bound).toBe(2);
    expect(state.port2.bound).toBe(2);
    expect(state.port2.bytesIn).toBe(payload.length + 8);
  });
}

test("an agent connection that breaks off mid-transfer: what the engine had read still reaches the client, then FIN", async () => {
  await using r = startRelay();
  const m = await r.open("public", { maxConnections1: 1 });
  const link = await dialAgent(r.agent(m));
  await using client = await connect({ port: m.port2 });
  client.socket.pause();
  await client.write(Buffer.from("GET"));
  await until(() => link.payloadReads === 1, 5000, "bound");
  void link.send(new Uint8Array(32 << 20)).catch(() => {});
  const queued = () => r.relay.state(m.id)!.port1.bytesIn - r.relay.state(m.id)!.port2.bytesOut;
  await until(() => queued() > 0, 5000, "a queue toward the client");
  // An abortive close (RST) arrives even though the engine is not reading that connection.
  link.ep.socket.terminate();
  await until(() => r.relay.state(m.id)!.port1.authorized === 0, 5000, "agent connection released");
  const read = r.relay.state(m.id)!.port1.bytesIn;
  expect(queued()).toBeGreaterThan(0);
  client.socket.resume();
  await within(5000, "client closed after the flush", client.closed);
  expect(client.received).toBe(read);
  expect(r.relay.state(m.id)!.port2.bytesOut).toBe(read);
});
