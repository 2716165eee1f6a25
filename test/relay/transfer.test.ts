// Byte-exact relaying in both directions for random payloads, write sizes and pauses: public and private, plain and TLS, many pairs at once.
import { expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { dialAgent, PublicAgent } from "../support/agent-client.ts";
import { connect, echoServer } from "../support/endpoint.ts";
import { seededRandom, type Random } from "../support/random.ts";
import { startRelay } from "../support/relay-harness.ts";
import { makeTestCert } from "../support/tls.ts";

const sha256 = (bytes: Uint8Array) => new Bun.CryptoHasher("sha256").update(bytes).digest("hex");

/** A size between 1 byte and `max`, spread evenly over orders of magnitude. */
const size = (rng: Random, max: number) => Math.max(1, Math.floor(Math.exp(rng.next() * Math.log(max))));

for (const tls of [false, true]) {
  const mode = tls ? "TLS" : "plain";

  test(`${mode} public: 24 concurrent clients echo random payloads exactly through 60 agent connections`, async () => {
    using cert = makeTestCert();
    await using r = startRelay(tls ? { tls: cert, ca: cert.cert } : {});
    const m = await r.open("public");
    await using service = echoServer();
    await using agent = await new PublicAgent({ ...r.agent(m), connections: 60, target: { port: service.port } }).start();
    const rng = seededRandom();
    const sizes = Array.from({ length: 24 }, () => size(rng, 2 << 20));
    const results = await Promise.all(
      sizes.map(async (bytes, i) => {
        const payload = randomBytes(bytes);
        const clientRng = seededRandom(rng.seed + i);
        await using client = await connect({ port: m.port2, ca: r.ca });
        await client.writeRandomly(payload, clientRng, 1 + clientRng.int(256 * 1024));
        await client.waitForBytes(payload.length, 20_000);
        return { sent: sha256(payload), echoed: client.digest(), received: client.received, bytes };
      }),
    );
    for (const result of results) {
      expect(result.received).toBe(result.bytes);
      expect(result.echoed).toBe(result.sent);
    }
    const total = sizes.reduce((a, b) => a + b, 0);
    const state = r.relay.state(m.id)!;
    expect([state.port2.bytesIn, state.port1.bytesOut, state.port1.bytesIn, state.port2.bytesOut]).toEqual([total, total, total, total]);
    expect(agent.refusals).toBe(0);
  }, 30_000);

  test(`${mode} private: 6 mappings relay independent random streams both ways at once`, async () => {
    using cert = makeTestCert();
    await using r = startRelay(tls ? { tls: cert, ca: cert.cert } : {});
    const rng = seededRandom();
    await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const m = await r.open("private");
        const a = await dialAgent(r.agent(m, 1));
        const b = await dialAgent(r.agent(m, 2));
        const aToB = randomBytes(size(rng, 3 << 20));
        const bToA = randomBytes(size(rng, 3 << 20));
        const rngA = seededRandom(rng.seed * 7 + i);
        const rngB = seededRandom(rng.seed * 13 + i);
        await Promise.all([
          a.ep.writeRandomly(aToB, rngA, 1 + rngA.int(128 * 1024)),
          b.ep.writeRandomly(bToA, rngB, 1 + rngB.int(128 * 1024)),
          b.ep.waitForBytes(aToB.length, 20_000),
          a.ep.waitForBytes(bToA.length, 20_000),
        ]);
        expect(b.ep.digest()).toBe(sha256(aToB));
        expect(a.ep.digest()).toBe(sha256(bToA));
        const state = r.relay.state(m.id)!;
        expect([state.port1.bytesIn, state.port2.bytesOut]).toEqual([aToB.length, aToB.length]);
        expect([state.port2.bytesIn, state.port1.bytesOut]).toEqual([bToA.length, bToA.length]);
        a.ep.socket.terminate();
        b.ep.socket.terminate();
      }),
    );
  }, 30_000);
}

test("plain public: one 16 MiB payload with random writes and pauses, echoed exactly", async () => {
  await using r = startRelay();
  const m = await r.open("public");
  await using service = echoServer();
  await using agent = await new PublicAgent({ ...r.agent(m), connections: 1, target: { port: service.port } }).start();
  const payload = randomBytes(16 << 20);
  const rng = seededRandom();
  await using client = await connect({ port: m.port2 });
  await Promise.all([client.writeRandomly(payload, rng, 1 << 20, 0.02), client.waitForBytes(payload.length, 30_000)]);
  expect(client.digest()).toBe(sha256(payload));
}, 30_000);

test("single bytes: 2,000 one-byte writes in a private mapping arrive in order", async () => {
  await using r = startRelay();
  const m = await r.open("private");
  const a = await dialAgent(r.agent(m, 1));
  const b = await dialAgent(r.agent(m, 2));
  const payload = randomBytes(2000);
  for (let i = 0; i < payload.length; i++) {
    await a.ep.write(payload.subarray(i, i + 1));
    if (i % 100 === 0) await Bun.sleep(1);
  }
  await b.ep.waitForBytes(payload.length);
  expect(b.ep.digest()).toBe(sha256(payload));
  a.ep.socket.terminate();
  b.ep.socket.terminate();
});
