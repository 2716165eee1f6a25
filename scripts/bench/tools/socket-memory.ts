// What one idle accepted socket costs in a bare Bun server, with none of the Connector's code: the floor under the relay's idle cost.
// Usage: bun scripts/bench/tools/socket-memory.ts plain|native|upgrade|relay-plain|relay-tls [FIRST] [LAST]
//   plain:   Bun.listen, plain TCP (the dev-mode relay ports)
//   native:  Bun.listen({ tls }) (how 2.0.0 served TLS)
//   upgrade: Bun.listen, each socket taken up with upgradeTLS and one shared secure context (how the relay keeps TLS records)
//   relay-plain, relay-tls: the relay engine itself (src/relay), one public mapping, the clients as its agents
// A client process dials FIRST connections, then LAST in all, each writing 36 bytes and waiting for a 10-byte answer (as an
// agent's passcode and AUTHORIZED); the server reads RSS and the JS heap after a full GC at both counts and prints the slope.
import { heapStats } from "bun:jsc";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import { systemClock } from "../../../src/clock.ts";
import { createLogger } from "../../../src/log.ts";
import { createRelay, type Relay } from "../../../src/relay/index.ts";
import { makeCertificate } from "../lib/tls-cert.ts";
import { freePort } from "../lib/ports.ts";

type Mode = "plain" | "native" | "upgrade" | "relay-plain" | "relay-tls";
const MODES: readonly string[] = ["plain", "native", "upgrade", "relay-plain", "relay-tls"];

const [role = "", ...rest] = process.argv.slice(2);

if (role === "client") await client(Number(rest[0]), rest[1] === "tls", rest[2]!, rest.slice(3).map(Number));
else if (MODES.includes(role)) await server(role as Mode, Number(rest[0] ?? 1000), Number(rest[1] ?? 5000));
else {
  console.error(`usage: socket-memory.ts ${MODES.join("|")} [FIRST] [LAST]`);
  process.exit(1);
}

/** The relay engine with one public mapping whose agent port takes every client; returns the port and its passcode. */
async function startRelay(secure: boolean, pem: { cert: string; key: string }): Promise<{ relay: Relay; port: number; passcode: string }> {
  const relay = createRelay({ log: createLogger({ level: "warn", write: () => {} }), clock: systemClock(), hostname: "127.0.0.1", tls: secure ? pem : undefined });
  const passcode = crypto.randomUUID();
  const [port1, port2] = [freePort(), freePort()];
  await relay.open(
    { id: "memory", kind: "public", port1, port2, passcode1: passcode, passcode2: "", maxConnections1: 1_000_000, maxConnections2: 0, heartbeatThreshold1: 0, heartbeatThreshold2: 0 },
    { retry: false },
  );
  return { relay, port: port1, passcode };
}

async function server(mode: Mode, first: number, last: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "socket-memory-"));
  const cert = makeCertificate(dir);
  const pem = { cert: readFileSync(cert.cert, "utf8"), key: readFileSync(cert.key, "utf8") };
  // What src/relay/tls.ts hands upgradeTLS: the native context node:tls wraps.
  const upgradeOptions: Record<string, unknown> = { secureContext: (tls.createSecureContext(pem) as unknown as { context: unknown }).context };
  const answer = Buffer.from("AUTHORIZED");
  const onData = (socket: { data: { answered: boolean }; write(b: Uint8Array): number }) => {
    if (socket.data.answered) return;
    socket.data.answered = true;
    socket.write(answer);
  };
  const secure = { data: onData, handshake() {} };
  const relay = mode.startsWith("relay") ? await startRelay(mode === "relay-tls", pem) : undefined;
  const listener = relay !== undefined ? undefined : Bun.listen<{ answered: boolean }>({
    hostname: "127.0.0.1",
    port: 0,
    tls: mode === "native" ? pem : undefined,
    data: { answered: false },
    socket: {
      open(socket) {
        if (mode !== "upgrade") return void (socket.data = { answered: false });
        const [raw, upgraded] = socket.upgradeTLS<{ answered: boolean }>({ tls: upgradeOptions, socket: secure });
        upgraded.data = { answered: false };
        raw.data = upgraded.data;
      },
      data(socket) {
        if (mode !== "upgrade") onData(socket);
      },
    },
  });
  const reading = () => {
    Bun.gc(true);
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))![1]) * 1024;
    return { rss, heap: heapStats().heapSize };
  };
  const port = relay?.port ?? listener!.port;
  const plain = mode === "plain" || mode === "relay-plain";
  const child = Bun.spawn([process.execPath, import.meta.path, "client", String(port), plain ? "plain" : "tls", relay?.passcode ?? "x".repeat(36), String(first), String(last)], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "inherit",
  });
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const readings: { rss: number; heap: number }[] = [];
  try {
    for (const count of [first, last]) {
      const { value } = await lines.read();
      if (value === undefined || !value.startsWith("ready")) throw new Error(`the client stopped before ${count} connections were answered`);
      await Bun.sleep(1000);
      readings.push(reading());
      child.stdin.write("more\n");
      await child.stdin.flush();
    }
  } finally {
    child.kill();
    listener?.stop(true);
    await relay?.relay.shutdown(0);
    rmSync(dir, { recursive: true, force: true });
  }
  const [a, b] = readings as [{ rss: number; heap: number }, { rss: number; heap: number }];
  const n = last - first;
  console.log(`${mode}: ${((b.rss - a.rss) / n / 1024).toFixed(2)} KiB RSS and ${((b.heap - a.heap) / n).toFixed(0)} B of JS heap per idle connection (${first} → ${last})`);
  process.exit(0);
}

async function client(port: number, secure: boolean, passcode: string, stages: number[]): Promise<void> {
  const sockets: unknown[] = [];
  let answered = 0;
  let closed = 0;
  const dialTo = async (count: number) => {
    // In batches, each answered before the next, so that handshakes never pile up.
    while (sockets.length < count) {
      const batch = Array.from({ length: Math.min(50, count - sockets.length) }, () =>
        Bun.connect({
          hostname: "127.0.0.1",
          port,
          tls: secure ? { rejectUnauthorized: false } : undefined,
          socket: {
            open: (socket) => void (secure || socket.write(passcode)),
            handshake: (socket) => void socket.write(passcode),
            data: () => void answered++,
            close: () => void closed++,
          },
        }),
      );
      sockets.push(...(await Promise.all(batch)));
      for (let i = 0; answered + closed < sockets.length && i < 2000; i++) await Bun.sleep(5);
      if (closed > 0) throw new Error(`${closed} connections were closed by the server`);
    }
    process.stdout.write(`ready ${count}\n`);
  };
  for (const count of stages) {
    await dialTo(count);
    for await (const _ of console) break;
  }
}
