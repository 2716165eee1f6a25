// Heartbeats: BEAT is answered and never relayed, and heartbeatabsencethreshold closes silent agent connections.
import { expect, test } from "bun:test";
import { dialAgent } from "../support/agent-client.ts";
import { connect, until, within } from "../support/endpoint.ts";
import { seededRandom } from "../support/random.ts";
import { manualClock } from "../support/manual-clock.ts";
import { startRelay } from "../support/relay-harness.ts";
import { makeTestCert } from "../support/tls.ts";

const sha256 = (bytes: Uint8Array) => new Bun.CryptoHasher("sha256").update(bytes).digest("hex");

for (const tls of [false, true]) {
  test(`${tls ? "TLS" : "plain"}: BEAT is answered with BEAT and not relayed, so agents stay connected`, async () => {
    using cert = makeTestCert();
    await using r = startRelay(tls ? { tls: cert, ca: cert.cert } : {});
    const m = await r.open("private");
    const a = await dialAgent(r.agent(m, 1, { heartbeatMs: 20, silenceMs: 200 }));
    const b = await dialAgent(r.agent(m, 2, { heartbeatMs: 10_000, silenceMs: 60_000 }));
    // Several silence periods pass; only the Connector's answers keep `a` from dropping its connection.
    await until(() => a.heartbeatsHeard >= 30, 20_000, "answers to 30 heartbeats");
    expect(a.ep.isClosed).toBe(false);
    expect(a.dropped).toBeUndefined();
    expect(b.payloadReads).toBe(0);
    expect(b.heartbeatsHeard).toBe(0);
    const state = r.relay.state(m.id)!;
    expect(state.port1.bytesIn).toBe(0);
    expect(state.port2.bytesOut).toBe(0);
    a.ep.socket.terminate();
    b.ep.socket.terminate();
  }, 30_000);
}

test("the agent client drops a connection that stays silent for its silence period", async () => {
  await using r = startRelay();
  const m = await r.open("public");
  // It sends no heartbeat of its own, so the Connector has nothing to answer.
  const link = await dialAgent(r.agent(m, 1, { heartbeatMs: 60_000, silenceMs: 80 }));
  await within(3000, "dropped", link.closed);
  expect(link.dropped).toBe("silence");
});

test("heartbeatabsencethreshold: an agent connection that reads nothing for that long is closed (manual clock)", async () => {
  const clock = manualClock();
  await using r = startRelay({ clock });
  const m = await r.open("private", { heartbeatThreshold1: 5_000, heartbeatThreshold2: 0 });
  const quiet = await dialAgent(r.agent(m, 1, { heartbeatMs: 600_000, silenceMs: 600_000 }));
  const other = await dialAgent(r.agent(m, 2, { heartbeatMs: 600_000, silenceMs: 600_000 }));

  clock.advance(4_000);
  // A heartbeat read at t=4 s restarts the count.
  await quiet.send(Buffer.from("BEAT"));
  await until(() => quiet.heartbeatsHeard === 1, 5000, "BEAT answered");
  clock.advance(4_000);
  // So does payload, read at t=8 s.
  await quiet.send(Buffer.from("payload"));
  await other.ep.waitForBytes(7);
  clock.advance(4_999);
  await Bun.sleep(20);
  expect(quiet.ep.isClosed).toBe(false);
  clock.advance(1_000);
  await within(5000, "closed after 5 s without a read", quiet.closed);

  const state = r.relay.state(m.id)!;
  expect(state.port1.heartbeatTimeouts).toBe(1);
  expect(state.port1.authorized).toBe(0);
  // Port 2's threshold is 0: never enforced, whatever the silence.
  clock.advance(3_600_000);
  await Bun.sleep(20);
  expect(other.ep.isClosed).toBe(false);
  expect(r.relay.state(m.id)!.port2.heartbeatTimeouts).toBe(0);
  other.ep.socket.terminate();
});

test("a private agent paused with a full hold for its absent peer is not silent: it stays, and the peer gets every byte (manual clock)", async () => {
  const clock = manualClock();
  await using r = startRelay({ clock, privateHoldBytes: 1 << 20 });
  const m = await r.open("private", { heartbeatThreshold1: 3_000, heartbeatThreshold2: 3_000 });
  const a = await dialAgent(r.agent(m, 1, { heartbeatMs: 600_000, silenceMs: 600_000 }));
  const payload = seededRandom(3).bytes(8 << 20);
  void a.send(payload).catch(() => {});
  await until(() => r.relay.state(m.id)!.port1.paused === 1, 10_000, "reading paused with the hold full");
  // Ten thresholds pass while the relay itself does not read the agent.
  clock.advance(30_000);
  await Bun.sleep(20);
  expect(a.ep.isClosed).toBe(false);
  expect(r.relay.state(m.id)!.port1.heartbeatTimeouts).toBe(0);
  const b = await dialAgent(r.agent(m, 2, { heartbeatMs: 600_000, silenceMs: 600_000 }));
  await b.ep.waitForBytes(payload.length, 30_000);
  expect(b.ep.digest()).toBe(sha256(payload));
  a.ep.socket.terminate();
  b.ep.socket.terminate();
}, 60_000);

test("a public agent paused by a client that reads slowly is not silent: the download is not cut (manual clock)", async () => {
  const clock = manualClock();
  await using r = startRelay({ clock });
  const m = await r.open("public", { heartbeatThreshold1: 3_000 });
  const agent = await dialAgent(r.agent(m, 1, { heartbeatMs: 600_000, silenceMs: 600_000 }));
  await using client = await connect({ port: m.port2 });
  await until(() => r.relay.state(m.id)!.port1.bound === 1, 5000, "bound");
  client.socket.pause();
  const payload = seededRandom(4).bytes(12 << 20);
  void agent.send(payload).catch(() => {});
  await until(() => r.relay.state(m.id)!.port1.paused === 1, 10_000, "agent paused by backpressure");
  clock.advance(30_000);
  await Bun.sleep(20);
  expect(agent.ep.isClosed).toBe(false);
  client.socket.resume();
  await client.waitForBytes(payload.length, 30_000);
  expect(client.digest()).toBe(sha256(payload));
  expect(r.relay.state(m.id)!.port1.heartbeatTimeouts).toBe(0);
  // Once read again, silence counts from the resume: a silent agent is still closed.
  clock.advance(3_000 + 1_000);
  await within(5000, "closed after the threshold without a read", agent.closed);
  expect(r.relay.state(m.id)!.port1.heartbeatTimeouts).toBe(1);
}, 60_000);
