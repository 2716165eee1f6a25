// The relay as the deployed Go agent drives it: one TLS record per Write, markers back to back, no pauses.
import { expect, test } from "bun:test";
import { runGoAgent } from "../support/go-agent.ts";
import { until } from "../support/endpoint.ts";
import { startRelay, type TestRelay } from "../support/relay-harness.ts";
import { makeTestCert, type TestCert } from "../support/tls.ts";
import type { RelayMapping } from "../../src/relay/types.ts";

interface PrivateReport {
  sent: number;
  acked: number;
  resends: number;
  dropped: number;
  received: number;
  corrupt: number;
  duplicates: number;
  merged: number;
  beatsSent: number;
  beatsHeard: number;
  timedOut: boolean;
  error: string;
}

const side = (r: TestRelay, cert: TestCert, m: RelayMapping, n: 1 | 2) => ({
  addr: `127.0.0.1:${n === 1 ? m.port1 : m.port2}`,
  passcode: n === 1 ? m.passcode1 : m.passcode2,
  ca: cert.certFile,
});

/** Two Go agents on the two ports of a private mapping, each sending `count` messages to the other at once. */
async function exchange(count: number, sizes: number[], beat = "20s", extra: Record<string, string> = {}): Promise<[PrivateReport, PrivateReport]> {
  using cert = makeTestCert();
  await using r = startRelay({ tls: cert, ca: cert.cert });
  const m = await r.open("private");
  const common = { count, expect: count, sizes: sizes.join(","), "peer-sizes": sizes.join(","), beat, deadline: "60s", linger: "200ms", ...extra };
  await using a = runGoAgent<PrivateReport>("private", { ...side(r, cert, m, 1), ...common, seed: 11, "peer-seed": 22 });
  await until(() => r.relay.state(m.id)!.port1.authorized === 1, 10_000, "side 1 authorized");
  await using b = runGoAgent<PrivateReport>("private", { ...side(r, cert, m, 2), ...common, seed: 22, "peer-seed": 11 });
  return await Promise.all([a.result, b.result]);
}

function expectDelivered(report: PrivateReport, count: number): void {
  expect(report.error).toBe("");
  expect(report.timedOut).toBe(false);
  expect(report.received).toBe(count);
  expect(report.acked).toBe(count);
  expect(report.dropped).toBe(0);
  expect(report.corrupt).toBe(0);
  expect(report.merged).toBe(0);
}

test("private: 1,000 small messages each way, TXEND and ACK written back to back, every one delivered and acknowledged", async () => {
  const [a, b] = await exchange(1000, [16, 40, 200, 1000]);
  expectDelivered(a, 1000);
  expectDelivered(b, 1000);
}, 90_000);

test("private: 1 MiB and 4 MiB messages each way, every byte in place and each TXEND alone", async () => {
  const [a, b] = await exchange(4, [1 << 20, 4 << 20]);
  expectDelivered(a, 4);
  expectDelivered(b, 4);
}, 90_000);

test("private: 300 messages of mixed sizes each way at once, with BEAT every 20 ms on both connections", async () => {
  const [a, b] = await exchange(300, [16, 5000, 16 * 1024, 70_000, 333], "20ms");
  expectDelivered(a, 300);
  expectDelivered(b, 300);
  // Heartbeats were answered by the Connector, never relayed into the other agent's messages.
  expect(a.beatsHeard).toBeGreaterThan(0);
  expect(b.beatsHeard).toBeGreaterThan(0);
}, 90_000);

test("private: what is held for an absent peer keeps its records, so the peer sees the message and its TXEND apart", async () => {
  using cert = makeTestCert();
  await using r = startRelay({ tls: cert, ca: cert.cert });
  const m = await r.open("private");
  const flags = { count: 20, expect: 20, sizes: "3000", "peer-sizes": "3000", deadline: "60s", linger: "200ms" };
  await using a = runGoAgent<PrivateReport>("private", { ...side(r, cert, m, 1), ...flags, seed: 11, "peer-seed": 22 });
  // The first message and its TXEND are held: nobody is on the other port yet.
  await until(() => r.relay.state(m.id)!.port1.bytesIn >= 3005, 10_000, "message and TXEND held");
  await using b = runGoAgent<PrivateReport>("private", { ...side(r, cert, m, 2), ...flags, seed: 22, "peer-seed": 11 });
  const [ra, rb] = await Promise.all([a.result, b.result]);
  expectDelivered(ra, 20);
  expectDelivered(rb, 20);
}, 90_000);

for (const suite of ["gcm", "gcm256", "chacha"]) {
  test(`private over TLS 1.2 (${suite}): 200 messages each way, each TXEND and ACK alone`, async () => {
    const [a, b] = await exchange(200, [16, 3000, 16 * 1024, 40_000], "20ms", { tls12: suite });
    expectDelivered(a, 200);
    expectDelivered(b, 200);
  }, 90_000);
}

test("a TLS 1.2 client that offers only CBC suites is refused at the handshake: its record lengths would not give its data", async () => {
  using cert = makeTestCert();
  await using r = startRelay({ tls: cert, ca: cert.cert });
  const m = await r.open("private");
  await using cbc = runGoAgent("private", { ...side(r, cert, m, 1), tls12: "cbc", deadline: "5s" });
  await expect(cbc.result).rejects.toThrow(/handshake failure|no cipher|insufficient security/);
  await using gcm = runGoAgent<PrivateReport>("private", { ...side(r, cert, m, 1), tls12: "gcm", deadline: "5s" });
  expect((await gcm.result).error).toBe("");
}, 30_000);

interface ClientReport {
  received: number;
  body: number;
  announced: number;
  beatsInStream: number;
  staleInStream: number;
  firstDifference: number;
  error?: string;
}

interface AgentReport {
  served: number;
  beatsSent: number;
  staleWritten: number;
  timedOut: boolean;
  error: string;
}

test("public: a 3 s stream from the agent with BEAT every 20 ms reaches the client as nothing but payload", async () => {
  using cert = makeTestCert();
  await using r = startRelay({ tls: cert, ca: cert.cert });
  const m = await r.open("public");
  await using agent = runGoAgent<AgentReport>("public-agent", { ...side(r, cert, m, 1), pool: 2, stream: "3s", max: 4 * 2 ** 30, beat: "20ms", deadline: "60s" });
  await until(() => r.relay.state(m.id)!.port1.authorized === 2, 10_000, "agent pool up");
  await using client = runGoAgent<ClientReport>("public-client", { addr: `127.0.0.1:${m.port2}`, ca: cert.certFile, request: "GET /stream", deadline: "60s" });
  const got = await client.result;
  const sent = await agent.result;
  expect(sent.timedOut).toBe(false);
  expect(sent.beatsSent).toBeGreaterThan(20);
  expect(got.error).toBeUndefined();
  expect(got.body).toBe(got.announced);
  expect(got.beatsInStream).toBe(0);
  expect(got.firstDifference).toBe(-1);
}, 90_000);

test("public: bytes an agent writes while no client is bound are dropped and counted, never given to the next client", async () => {
  using cert = makeTestCert();
  await using r = startRelay({ tls: cert, ca: cert.cert });
  const m = await r.open("public");
  const stale = 3000;
  await using agent = runGoAgent<AgentReport>("public-agent", { ...side(r, cert, m, 1), pool: 3, stale, stream: "0s", max: 100_000, requests: 3, deadline: "60s" });
  // Every connection of the pool has written its stale bytes and the relay has read them all.
  await until(() => r.relay.state(m.id)!.port1.staleBytes === 3 * stale, 10_000, "stale bytes read");
  for (const name of ["one", "two", "three"]) {
    await using client = runGoAgent<ClientReport>("public-client", { addr: `127.0.0.1:${m.port2}`, ca: cert.certFile, request: `GET /${name}`, deadline: "30s" });
    const got = await client.result;
    expect(got.staleInStream).toBe(0);
    expect(got.body).toBe(100_000);
    expect(got.firstDifference).toBe(-1);
  }
  expect((await agent.result).served).toBe(3);
  expect(r.lines.some((line) => line.includes("no client is bound to, dropped"))).toBe(true);
}, 90_000);

test("dev mode: a TLS agent is closed at once and reported once a minute; it is not taken for passcode guessing", async () => {
  using cert = makeTestCert();
  await using r = startRelay();
  const m = await r.open("private");
  for (let i = 0; i < 13; i++) {
    await using tlsAgent = runGoAgent("private", { ...side(r, cert, m, 1), deadline: "5s" });
    await expect(tlsAgent.result).rejects.toThrow();
  }
  expect(r.relay.state(m.id)!.port1.rejectedTls).toBe(13);
  expect(r.relay.state(m.id)!.port1.rejectedPasscode).toBe(0);
  const warnings = r.lines.filter((line) => line.includes("speaks TLS, but the Connector runs in dev mode"));
  expect(warnings.length).toBe(1);
  expect(warnings[0]).toContain(`Port ${m.port1}`);
  // The same address still gets in at once with the right passcode over plain TCP.
  await using plain = runGoAgent<PrivateReport>("private", { ...side(r, cert, m, 1), plain: true, deadline: "5s" });
  expect((await plain.result).error).toBe("");
  expect(r.relay.state(m.id)!.port1.rejectedThrottled).toBe(0);
}, 90_000);
