// Private mappings: each agent connection lives on its own, payload is held for an absent peer, and read boundaries survive.
import { expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { dialAgent, PrivateAgent, TXEND } from "../support/agent-client.ts";
import { runGoAgent } from "../support/go-agent.ts";
import { until } from "../support/endpoint.ts";
import { startRelay } from "../support/relay-harness.ts";
import { makeTestCert } from "../support/tls.ts";

const sha256 = (bytes: Uint8Array) => new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString("latin1");

test("each side lives on its own: one closing leaves the other open, and it relays to the next one", async () => {
  using cert = makeTestCert();
  await using r = startRelay({ tls: cert, ca: cert.cert });
  const m = await r.open("private");
  const dial = (n: 1 | 2, seed: number, peerSeed: number) =>
    runGoAgent<{ received: number; acked: number; corrupt: number; error: string }>("private", {
      addr: `127.0.0.1:${n === 1 ? m.port1 : m.port2}`, passcode: n === 1 ? m.passcode1 : m.passcode2, ca: cert.certFile,
      count: 1, expect: 1, seed, "peer-seed": peerSeed, deadline: "30s", linger: "100ms",
    });
  // Side 2 is one Go agent process on one connection for the whole test: it never dials again.
  await using b = dial(2, 22, 11);
  await until(() => r.relay.state(m.id)!.port2.authorized === 1, 10_000, "side 2 authorized");
  const first = await dialAgent(r.agent(m, 1));
  await until(() => r.relay.state(m.id)!.port1.bound === 1, 5000, "linked");
  first.ep.socket.terminate();
  await until(() => r.relay.state(m.id)!.port1.authorized === 0, 5000, "side 1 gone");
  // Side 2 keeps its connection and its place.
  expect(r.relay.state(m.id)!.port2.authorized).toBe(1);
  expect(r.relay.state(m.id)!.port2.bound).toBe(0);
  await using a = dial(1, 11, 22);
  const [ra, rb] = await Promise.all([a.result, b.result]);
  for (const report of [ra, rb]) expect(report).toMatchObject({ received: 1, acked: 1, corrupt: 0, error: "" });
}, 60_000);

test("with the other agent absent, payload is held up to privateHoldBytes, then reading stops; all of it arrives later", async () => {
  await using r = startRelay({ privateHoldBytes: 1 << 20 });
  const m = await r.open("private");
  const a = await dialAgent(r.agent(m, 1));
  // More than the kernel buffers on the way hold, so that the sender really gets stuck.
  const payload = randomBytes(32 << 20);
  let sent = false;
  void a.send(payload).then(() => (sent = true));
  await until(() => r.relay.state(m.id)!.port1.bytesIn >= 1 << 20, 5000, "1 MiB held");
  // Settled: the engine has read nothing more for 100 ms.
  let last = -1;
  while (r.relay.state(m.id)!.port1.bytesIn !== last) {
    last = r.relay.state(m.id)!.port1.bytesIn;
    await Bun.sleep(100);
  }
  // Reading stopped near the bound: the sender is stuck behind TCP flow control.
  const held = r.relay.state(m.id)!.port1.bytesIn;
  expect(held).toBeLessThan(2 << 20);
  expect(sent).toBe(false);
  const b = await dialAgent(r.agent(m, 2));
  await b.ep.waitForBytes(payload.length, 20_000);
  expect(b.ep.digest()).toBe(sha256(payload));
  expect(sent).toBe(true);
  const state = r.relay.state(m.id)!;
  expect(state.port1.bytesIn).toBe(payload.length);
  expect(state.port2.bytesOut).toBe(payload.length);
  a.ep.socket.terminate();
  b.ep.socket.terminate();
});

test("a message without ACK is resent with backoff and given up; the held copies reach the peer in order", async () => {
  await using r = startRelay();
  const m = await r.open("private");
  await using a = await new PrivateAgent({ ...r.agent(m, 1), ackTimeoutMs: 20, maxResends: 4 }).start();
  const started = Date.now();
  await expect(a.send(Buffer.from("anyone there?"))).rejects.toThrow("no ACK after 4 resends");
  // 20 + 40 + 80 + 160 + 320 ms of waiting.
  expect(Date.now() - started).toBeGreaterThanOrEqual(600);
  expect(a.sends).toBe(5);
  const b = await dialAgent(r.agent(m, 2));
  const expected = Buffer.concat(Array.from({ length: 5 }, () => Buffer.concat([Buffer.from("anyone there?"), TXEND])));
  await b.ep.waitForBytes(expected.length);
  expect(b.ep.digest()).toBe(sha256(expected));
  b.ep.socket.terminate();
});

test("plain TCP: on an idle path each write arrives as exactly one read, TXEND and ACK included", async () => {
  await using r = startRelay();
  const m = await r.open("private");
  const a = await dialAgent(r.agent(m, 1));
  const b = await dialAgent(r.agent(m, 2));
  const readsAtA: string[] = [];
  const readsAtB: string[] = [];
  a.onPayload = (chunk) => readsAtA.push(text(chunk));
  b.onPayload = (chunk) => readsAtB.push(text(chunk));
  const words = ["a message of some length", "TXEND", "x", "TXEND", "ACKNOWLEDGED", "TXEND"];
  for (const [i, word] of words.entries()) {
    await a.send(Buffer.from(word));
    await until(() => readsAtB.length === i + 1, 5000, `read ${i + 1} at b`);
    await b.send(Buffer.from("ACK"));
    await until(() => readsAtA.length === i + 1, 5000, `ACK ${i + 1} at a`);
  }
  expect(readsAtB).toEqual(words);
  expect(readsAtA).toEqual(words.map(() => "ACK"));
  a.ep.socket.terminate();
  b.ep.socket.terminate();
});
