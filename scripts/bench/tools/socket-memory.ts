// What one idle accepted socket costs in a bare Bun server, with none of the Connector's code: the floor under the relay's idle cost.
// Usage: bun scripts/bench/tools/socket-memory.ts plain|native|upgrade [FIRST] [LAST]
//   plain:   Bun.listen, plain TCP (the dev-mode relay ports)
//   native:  Bun.listen({ tls }) (how 2.0.0 served TLS)
//   upgrade: Bun.listen, each socket taken up with upgradeTLS and one shared secure context (how the relay keeps TLS records)
// A client process dials FIRST connections, then LAST in all, each writing 36 bytes and waiting for a 10-byte answer (as an
// agent's passcode and AUTHORIZED); the server reads RSS and the JS heap after a full GC at both counts and prints the slope.
import { heapStats } from "bun:jsc";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import { makeCertificate } from "../lib/tls-cert.ts";

const [role = "", ...rest] = process.argv.slice(2);

if (role === "client") await client(Number(rest[0]), rest[1] === "tls", rest.slice(2).map(Number));
else if (role === "plain" || role === "native" || role === "upgrade") await server(role, Number(rest[0] ?? 1000), Number(rest[1] ?? 5000));
else {
  console.error("usage: socket-memory.ts plain|native|upgrade [FIRST] [LAST]");
  process.exit(1);
}

async function server(mode: "plain" | "native" | "upgrade", first: number, last: number): Promise<void> {
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
  const listener = Bun.listen<{ answered: boolean }>({
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
  const child = Bun.spawn([process.execPath, import.meta.path, "client", String(listener.port), mode === "plain" ? "plain" : "tls", String(first), String(last)], {
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
    listener.stop(true);
    rmSync(dir, { recursive: true, force: true });
  }
  const [a, b] = readings as [{ rss: number; heap: number }, { rss: number; heap: number }];
  const n = last - first;
  console.log(`${mode}: ${((b.rss - a.rss) / n / 1024).toFixed(2)} KiB RSS and ${((b.heap - a.heap) / n).toFixed(0)} B of JS heap per idle connection (${first} → ${last})`);
  process.exit(0);
}

async function client(port: number, secure: boolean, stages: number[]): Promise<void> {
  const passcode = "x".repeat(36);
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
