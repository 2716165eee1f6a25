import { describe, expect, test } from "bun:test";
import { loadState } from "../../src/store/journal.ts";
import { startTestDaemon } from "../support/daemon.ts";
import { seededRandom, type Random } from "../support/random.ts";
import { makeTestCert } from "../support/tls.ts";

const LONG = process.env.IOFOG_LONG_TESTS === "1";
const REQUESTS = LONG ? 100_000 : 10_000;
const PATHS = [
  "/api/v2/mapping/add", "/api/v2/mapping/remove", "/api/v2/mapping/list", "/api/v2/status", "/api/v2/commandline",
  "/api/v2/direct/add", "/api/v2/direct", "/api/v2/direct/remove", "/metrics", "/", "/api/v2", "/api/v2/mapping/add/x", "/%zz", "/api/v2/status?x=1",
];
const TYPES = ["application/x-www-form-urlencoded", "application/json", "text/plain", "multipart/form-data; boundary=x", "application/json; charset=utf-16", "", "application/x-www-form-urlencoded; charset=latin1"];
const NUMBERS = [0, -1, 1.5, 1e308, -1e308, 2 ** 53, 2 ** 64, "60", "-5", "1e3", "0x10", " 7 ", "", null, true, [], {}, "٣", "NaN", "Infinity"];
// "stop" is left out: commandline stop would end the daemon under test.
const WORDS = ["public", "private", "PUBLIC", "", "null", "status", "version", "help", "all", "\u0000", "😀", "ünï€ødé", "../../etc/passwd", "'; DROP TABLE", "%", "%zz", "%E2%82"];

/** One generated request; `validAdd` marks the ones a correct Connector must accept (while ports last). */
function generate(r: Random, ids: string[]): { method: string; path: string; type: string; body: string | Uint8Array; validAdd: boolean } {
  const method = r.next() < 0.9 ? "POST" : r.pick(["GET", "PUT", "DELETE", "PATCH", "OPTIONS"]);
  const path = r.pick(PATHS);
  const type = r.pick(TYPES);
  const kind = r.int(10);
  const mapping = () => {
    const m: Record<string, unknown> = { type: r.pick(WORDS) };
    for (const key of ["maxconnections", "heartbeatabsencethreshold", "maxconnectionsport1", "maxconnectionsport2", "heartbeatabsencethresholdport1", "heartbeatabsencethresholdport2"]) {
      if (r.next() < 0.7) m[key] = r.pick(NUMBERS);
    }
    return m;
  };
  switch (kind) {
    case 0:
      return { method, path, type, body: r.bytes(r.int(512)), validAdd: false };
    case 1: {
      let depth = "";
      for (let i = 0, n = r.int(20_000); i < n; i++) depth += r.pick(["[", "{\"a\":"]);
      return { method, path, type: "application/json", body: depth, validAdd: false };
    }
    case 2:
      return { method, path, type, body: "mapping=" + "A".repeat(60 * 1024 + r.int(20 * 1024)), validAdd: false };
    case 3: {
      const fields = new URLSearchParams({ mapping: JSON.stringify(mapping()), mappingid: r.pick([...WORDS, ...ids]), command: r.pick(WORDS) });
      return { method, path, type, body: fields.toString(), validAdd: false };
    }
    case 4:
      return { method, path, type: "application/json", body: JSON.stringify({ mapping: r.next() < 0.5 ? mapping() : JSON.stringify(mapping()), mappingid: r.pick(NUMBERS) }), validAdd: false };
    case 5:
      return { method, path, type, body: `mapping=${r.pick(WORDS)}&mappingid=${r.pick(WORDS)}&id=%${r.pick(WORDS)}`, validAdd: false };
    case 6: {
      // A valid add, so the state must change exactly by what was acknowledged.
      const body = new URLSearchParams({ mapping: JSON.stringify({ type: "public", maxconnections: r.int(100), heartbeatabsencethreshold: r.int(300000) }) });
      return { method: "POST", path: "/api/v2/mapping/add", type: "application/x-www-form-urlencoded", body: body.toString(), validAdd: true };
    }
    case 7: {
      const id = ids.length > 0 && r.next() < 0.5 ? r.pick(ids) : r.pick(WORDS);
      return { method: "POST", path: "/api/v2/mapping/remove", type: "application/x-www-form-urlencoded", body: new URLSearchParams({ mappingid: id }).toString(), validAdd: false };
    }
    default:
      return { method, path, type, body: String.fromCharCode(...r.bytes(r.int(300))), validAdd: false };
  }
}

describe("REST fuzzing", () => {
  test(`${REQUESTS} generated requests: never a 500, always an errormessage on errors, state changes only by valid calls`, async () => {
    const r = seededRandom();
    await using d = await startTestDaemon();
    const live = new Set<string>();
    const secrets = new Set<string>();
    const statuses = new Map<number, number>();
    let sent = 0;
    const worker = async () => {
      while (sent < REQUESTS) {
        sent++;
        const req = generate(r, [...live].slice(0, 8));
        const response = await fetch(`${d.url}${req.path}`, {
          method: req.method,
          headers: req.type ? { "content-type": req.type } : {},
          body: req.method === "GET" ? undefined : req.body,
        });
        const text = await response.text();
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        if (response.status >= 500 && response.status !== 507) throw new Error(`seed ${r.seed}: ${response.status} for ${req.method} ${req.path} ${String(req.body).slice(0, 200)}: ${text}`);
        if (response.status !== 200 && !req.path.startsWith("/metrics")) {
          const body = JSON.parse(text);
          if (typeof body.errormessage !== "string") throw new Error(`seed ${r.seed}: no errormessage: ${text}`);
        }
        if (response.status === 200 && req.path === "/api/v2/mapping/add") live.add(JSON.parse(text).id);
        if (response.status === 200 && !req.path.startsWith("/metrics")) {
          const body = JSON.parse(text);
          for (const key of ["passcode1", "passcode2", "passkey"]) if (body[key]) secrets.add(body[key]);
        }
        if (response.status === 200 && req.path === "/api/v2/mapping/remove") live.delete(JSON.parse(text).id);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    console.log(`REST fuzz (seed ${r.seed}): ${sent} requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}, ${live.size} mappings acknowledged and not removed`);
    expect(statuses.get(500)).toBeUndefined();
    expect(d.daemon.service.count).toBe(live.size);
    const stored = loadState(d.settings.stateFile).flatMap((e) => (e.kind === "mapping" ? [e.mapping.id] : [])).sort();
    expect(stored).toEqual([...live].sort());
    expect((await d.post("/api/v2/status", { mappingid: "all" })).body.status).toBe("running");
    const leaked = d.lines.filter((line) => [...secrets].some((secret) => line.includes(secret)));
    console.log(`REST fuzz: ${d.lines.length} log lines at debug level, ${secrets.size} passcodes and passkeys issued, ${leaked.length} lines with one in full`);
    expect(leaked).toEqual([]);
  }, 240_000);

  test("truncated and garbage TLS handshakes on the HTTPS API port leave it answering", async () => {
    using cert = makeTestCert();
    await using d = await startTestDaemon({ dev: false, certFile: cert.certFile, keyFile: cert.keyFile });
    const r = seededRandom();
    // The first bytes of a TLS 1.2 ClientHello record.
    const hello = Uint8Array.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, ...r.bytes(64)]);
    const attempts = 300;
    for (let i = 0; i < attempts; i++) {
      const { promise, resolve } = Promise.withResolvers<void>();
      const socket = await Bun.connect({
        hostname: "127.0.0.1",
        port: d.daemon.apiPort,
        socket: { data() {}, close: () => resolve(), error: () => resolve(), open() {} },
      });
      socket.write(i % 2 === 0 ? hello.subarray(0, 1 + r.int(hello.length - 1)) : r.bytes(1 + r.int(200)));
      socket.end();
      await Promise.race([promise, Bun.sleep(2000)]);
    }
    const response = await fetch(`${d.url}/api/v2/status`, { method: "POST", body: "mappingid=all", headers: { "content-type": "application/x-www-form-urlencoded" }, tls: { ca: cert.cert } } as RequestInit);
    console.log(`TLS garbage: ${attempts} truncated or random handshakes, API status ${response.status} afterwards`);
    expect(response.status).toBe(200);
  }, 120_000);
});
