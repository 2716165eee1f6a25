import { describe, expect, test } from "bun:test";
import { randomUUID } from "node:crypto";
import { connect as tlsConnect } from "node:tls";
import { startTestDaemon, type TestDaemon } from "../support/daemon.ts";
import { seededRandom, type Random } from "../support/random.ts";
import { makeTestCert } from "../support/tls.ts";
import { authorize } from "../support/wire.ts";

const LONG = process.env.IOFOG_LONG_TESTS === "1";
const ATTEMPTS = LONG ? 20_000 : 2_000;
const HANDSHAKE_MS = 400;
const PUBLIC = JSON.stringify({ type: "public", maxconnections: 60, heartbeatabsencethreshold: 0 });
const PRIVATE = JSON.stringify({ type: "private", maxconnectionsport1: 4, maxconnectionsport2: 4, heartbeatabsencethresholdport1: 0, heartbeatabsencethresholdport2: 0 });
const CLIENT_HELLO = Uint8Array.from([0x16, 0x03, 0x01, 0x00, 0xf1, 0x01, 0x00, 0x00, 0xed, 0x03, 0x03]);

/** Sends `writes` (with pauses) to a port; "authorized" if AUTHORIZED ever comes back, else how it ended. */
async function attack(port: number, writes: Uint8Array[], r: Random): Promise<"authorized" | "closed" | "idle"> {
  const { promise, resolve } = Promise.withResolvers<"authorized" | "closed" | "idle">();
  let seen = "";
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_, chunk) {
        seen += Buffer.from(chunk).toString("latin1");
        if (seen.includes("AUTHORIZED")) resolve("authorized");
      },
      close: () => resolve("closed"),
      error: () => resolve("closed"),
      connectError: () => resolve("closed"),
    },
  }).catch(() => undefined);
  if (socket === undefined) return "closed";
  for (const write of writes) {
    socket.write(write);
    if (r.next() < 0.3) await Bun.sleep(r.int(5));
  }
  const timer = setTimeout(() => resolve("idle"), HANDSHAKE_MS * 4);
  const result = await promise;
  clearTimeout(timer);
  socket.terminate();
  return result;
}

function split(bytes: Uint8Array, r: Random): Uint8Array[] {
  const parts: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; ) {
    const n = 1 + r.int(bytes.length - at);
    parts.push(bytes.subarray(at, at + n));
    at += n;
  }
  return parts;
}

describe("wire fuzzing", () => {
  test(`${ATTEMPTS} hostile connections: nobody is authorized without the right passcode for that port`, async () => {
    const r = seededRandom();
    await using d = await startTestDaemon({}, { relayLimits: { handshakeTimeoutMs: HANDSHAKE_MS, holdTimeoutMs: HANDSHAKE_MS } });
    const add = async (mapping: string) => (await d.post("/api/v2/mapping/add", { mapping })).body;
    const pub = await add(PUBLIC);
    const priv = await add(PRIVATE);
    const removed = await add(PUBLIC);
    await d.post("/api/v2/mapping/remove", { mappingid: removed.id });
    const targets: [number, string][] = [[pub.port1, pub.passcode1], [priv.port1, priv.passcode1], [priv.port2, priv.passcode2]];
    const others = [pub.passcode1, priv.passcode1, priv.passcode2, removed.passcode1];
    const outcomes = { authorized: 0, closed: 0, idle: 0 };
    const kinds = new Map<string, number>();

    let next = 0;
    const worker = async () => {
      while (next < ATTEMPTS) {
        next++;
        const [port, right] = r.pick(targets);
        const kind = r.pick(["random", "partial", "wrong", "other", "removed", "tls", "glued-wrong", "case"] as const);
        let bytes: Uint8Array;
        switch (kind) {
          case "random": bytes = r.bytes(1 + r.int(100)); break;
          case "partial": bytes = Buffer.from(right.slice(0, r.int(36))); break;
          case "wrong": bytes = Buffer.from(randomUUID()); break;
          case "other": bytes = Buffer.from(r.pick(others.filter((p) => p !== right))); break;
          case "removed": bytes = Buffer.from(removed.passcode1); break;
          case "tls": bytes = Uint8Array.from([...CLIENT_HELLO, ...r.bytes(r.int(64))]); break;
          case "glued-wrong": bytes = Buffer.from(`${right.slice(0, 35)}X payload`); break;
          case "case": bytes = Buffer.from(right.toUpperCase()); break;
        }
        kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
        outcomes[await attack(port, split(bytes, r), r)]++;
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    // The right passcode still works for every agent port, during and after all that.
    for (const [port, right] of targets) expect(await authorize(port, right)).toBe(true);
    console.log(`wire fuzz (seed ${r.seed}): ${ATTEMPTS} attempts ${JSON.stringify(Object.fromEntries(kinds))}: ${JSON.stringify(outcomes)}`);
    expect(outcomes.authorized).toBe(0);
    const secrets = [pub.passcode1, priv.passcode1, priv.passcode2, removed.passcode1];
    expect(d.lines.filter((line) => secrets.some((secret) => line.includes(secret)))).toEqual([]);
    const rejected = d.daemon.service.state(pub.id)!.port1;
    expect(rejected.rejectedPasscode + rejected.rejectedTimeout).toBeGreaterThan(0);
  }, 300_000);

  test("slowloris: idle strangers on agent and public ports are reaped by the handshake deadline; agents and the API stay served", async () => {
    await using d = await startTestDaemon({}, { relayLimits: { handshakeTimeoutMs: HANDSHAKE_MS, holdTimeoutMs: HANDSHAKE_MS } });
    const pub = (await d.post("/api/v2/mapping/add", { mapping: PUBLIC })).body;
    const idle = 600;
    const sockets = await Promise.all(
      Array.from({ length: idle }, (_, i) =>
        Bun.connect({ hostname: "127.0.0.1", port: i % 3 === 0 ? pub.port2 : pub.port1, socket: { data() {}, close() {}, error() {} } }),
      ),
    );
    const during = performance.now();
    expect((await d.post("/api/v2/status", { mappingid: "all" })).status).toBe(200);
    const statusMs = performance.now() - during;
    expect(await authorize(pub.port1, pub.passcode1)).toBe(true);
    const state = () => d.daemon.service.state(pub.id)!;
    const peak = state().port1.pending + state().port2.waiting;
    let left = peak;
    for (let i = 0; i < 100 && left > 0; i++) {
      await Bun.sleep(100);
      left = state().port1.pending + state().port2.waiting;
    }
    console.log(`slowloris: ${idle} idle connections (peak ${peak} pending or held), status answered in ${statusMs.toFixed(1)} ms, ${left} left after the deadline, ${state().port1.rejectedTimeout} reaped on the agent port`);
    expect(left).toBe(0);
    for (const socket of sockets) socket.terminate();
  }, 60_000);
});

describe("TLS mode serves nothing in plaintext", () => {
  test("a plaintext passcode or HTTP request on TLS ports gets no plaintext answer", async () => {
    using cert = makeTestCert();
    await using d = await startTestDaemon({ dev: false, certFile: cert.certFile, keyFile: cert.keyFile }, { relayLimits: { handshakeTimeoutMs: HANDSHAKE_MS } });
    const m = await postTls(d, cert.cert, "/api/v2/mapping/add", { mapping: PUBLIC });
    const plainReply = async (port: number, text: string) => {
      const { promise, resolve } = Promise.withResolvers<string>();
      let seen = "";
      const socket = await Bun.connect({
        hostname: "127.0.0.1",
        port,
        socket: { data: (_, c) => void (seen += Buffer.from(c).toString("latin1")), close: () => resolve(seen), error: () => resolve(seen) },
      });
      socket.write(text);
      setTimeout(() => resolve(seen), HANDSHAKE_MS * 4);
      const result = await promise;
      socket.terminate();
      return result;
    };
    for (const [port, text] of [[m.port1, m.passcode1], [m.port2, "GET / HTTP/1.0\r\n\r\n"], [d.daemon.apiPort, "POST /api/v2/status HTTP/1.1\r\nHost: x\r\nContent-Length: 13\r\n\r\nmappingid=all"]] as const) {
      const reply = await plainReply(port, text);
      expect(reply).not.toContain("AUTHORIZED");
      expect(reply).not.toContain("HTTP/1.1 200");
      expect(reply).not.toContain("running");
    }
    // Over TLS the same passcode is accepted.
    const { promise, resolve } = Promise.withResolvers<string>();
    const socket = tlsConnect({ host: "127.0.0.1", port: m.port1, ca: cert.cert, servername: "localhost" }, () => socket.write(m.passcode1));
    socket.on("data", (chunk) => resolve(chunk.toString()));
    socket.on("error", (e) => resolve(String(e)));
    expect(await promise).toBe("AUTHORIZED");
    socket.destroy();
  });
});

async function postTls(d: TestDaemon, ca: string, path: string, fields: Record<string, string>): Promise<any> {
  const response = await fetch(`${d.url}${path}`, {
    method: "POST",
    body: new URLSearchParams(fields).toString(),
    headers: { "content-type": "application/x-www-form-urlencoded" },
    tls: { ca },
  } as RequestInit);
  return response.json();
}
