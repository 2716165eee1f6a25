import { describe, expect, test } from "bun:test";
import { randomUUID } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Socket } from "bun";
import { randomPortRange } from "../support/daemon.ts";
import { instance } from "../support/executable.ts";

const LONG = process.env.IOFOG_LONG_TESTS === "1";
const PAIR_BYTES = LONG ? 1024 * 1024 : 128 * 1024;

/** Resident and peak resident memory of a process, in KiB. */
function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0);
  return { rss: kib("VmRSS"), peak: kib("VmHWM") };
}

/** Whether this process can listen on a port: false when another program holds it. */
function canBind(port: number): boolean {
  try {
    Bun.listen({ hostname: "0.0.0.0", port, socket: { data() {} } }).stop(true);
    return true;
  } catch {
    return false;
  }
}

async function timedStatus(url: string): Promise<number> {
  const began = performance.now();
  const response = await fetch(`${url}/api/v2/status`, { method: "POST", body: "mappingid=all", signal: AbortSignal.timeout(10_000) });
  expect(response.status).toBe(200);
  return performance.now() - began;
}

/** Opens `count` connections to `port`, each presenting `passcode`, and resolves once all are authorized. */
async function agents(port: number, passcode: string, count: number, onData?: (socket: Socket<{ got: number }>, bytes: number) => void) {
  const sockets: Socket<{ got: number }>[] = [];
  let authorized = 0;
  const { promise, resolve } = Promise.withResolvers<void>();
  for (let n = 0; n < count; n++) {
    sockets.push(
      await Bun.connect({
        hostname: "127.0.0.1",
        port,
        data: { got: -10 },
        socket: {
          open: (s) => void s.write(passcode),
          data(s, chunk) {
            const before = s.data.got;
            s.data.got += chunk.byteLength;
            if (before < 0 && s.data.got >= 0 && ++authorized === count) resolve();
            if (s.data.got > 0) onData?.(s, s.data.got);
          },
          close() {},
          error() {},
        },
      }),
    );
  }
  const timer = setTimeout(resolve, 60_000);
  await promise;
  clearTimeout(timer);
  return { sockets, authorized: () => authorized };
}

describe("load and resource limits", () => {
  test("9,000 mappings restored at start: all 18,000 listeners bound, status answers, memory reported", async () => {
    await using i = instance({ ports: ["10000-27999"] }, { wrap: ["prlimit", "--nofile=20000"] });
    const mappings = Array.from({ length: 9000 }, (_, n) => ({
      id: randomUUID(), port1: 10000 + 2 * n, port2: 10001 + 2 * n, maxconnectionsport1: 60, maxconnectionsport2: 0,
      passcodeport1: randomUUID(), passcodeport2: "", heartbeatabsencethresholdport1: 200000, heartbeatabsencethresholdport2: 0,
    }));
    writeFileSync(join(i.dir, "configs.json"), JSON.stringify({ mappings }));
    for (const round of ["first start", "restart"]) {
      const began = performance.now();
      const child = await i.start();
      const ready = performance.now() - began;
      let active = 0;
      let inactive: number[] = [];
      for (let n = 0; n < 30 && active < 18_000; n++) {
        const list = (await i.post("/api/v2/mapping/list", {})).mappings as { port1: number; port2: number; active1: boolean; active2: boolean }[];
        active = list.reduce((sum, m) => sum + Number(m.active1) + Number(m.active2), 0);
        inactive = list.flatMap((m) => [...(m.active1 ? [] : [m.port1]), ...(m.active2 ? [] : [m.port2])]);
        if (active < 18_000) await Bun.sleep(100);
      }
      const bound = performance.now() - began;
      // A pool port that another program on this machine holds stays inactive (retried every second).
      const heldElsewhere = inactive.filter((port) => !canBind(port)).length;
      const statusMs = await timedStatus(i.url);
      const { rss } = memory(child.pid);
      console.log(`load: 9,000 mappings (${round}): API ready in ${ready.toFixed(0)} ms, ${active} listeners bound after ${bound.toFixed(0)} ms (${heldElsewhere} ports held by other programs), status in ${statusMs.toFixed(1)} ms, RSS ${(rss / 1024).toFixed(1)} MiB`);
      expect(active + heldElsewhere).toBe(18_000);
      expect((await i.post("/api/v2/status", { mappingid: "all" })).mappings).toBe(9000);
      expect((await i.run("stop")).code).toBe(0);
      expect(await child.exited).toBe(0);
    }
  }, 240_000);

  test("8,000 idle authorized agent connections: the daemon stays responsive, memory per connection reported", async () => {
    const pool = randomPortRange(400);
    await using i = instance({ ports: [`${pool.from}-${pool.to}`] }, { wrap: ["prlimit", "--nofile=20000"] });
    const child = await i.start();
    const mapped = [];
    for (let n = 0; n < 80; n++) mapped.push(await i.post("/api/v2/mapping/add", { mapping: JSON.stringify({ type: "public", maxconnections: 100, heartbeatabsencethreshold: 0 }) }));
    await Bun.sleep(200);
    const before = memory(child.pid).rss;
    const groups = [];
    for (const m of mapped) groups.push(await agents(m.port1, m.passcode1, 100));
    const total = groups.reduce((sum, g) => sum + g.authorized(), 0);
    await Bun.sleep(500);
    const after = memory(child.pid).rss;
    const statusMs = await timedStatus(i.url);
    const perConnection = ((after - before) * 1024) / total;
    console.log(`load: ${total} idle agent connections, RSS ${(before / 1024).toFixed(1)} → ${(after / 1024).toFixed(1)} MiB (${(perConnection / 1024).toFixed(2)} KiB each), status in ${statusMs.toFixed(1)} ms`);
    expect(total).toBe(8000);
    for (const g of groups) for (const s of g.sockets) s.terminate();
  }, 240_000);

  test(`2,000 concurrent public pairs each moving ${PAIR_BYTES / 1024} KiB: all bytes arrive, peak memory reported`, async () => {
    await using i = instance({}, { wrap: ["prlimit", "--nofile=20000"] });
    const child = await i.start();
    const mapped = [];
    for (let n = 0; n < 20; n++) mapped.push(await i.post("/api/v2/mapping/add", { mapping: JSON.stringify({ type: "public", maxconnections: 100, heartbeatabsencethreshold: 0 }) }));
    let complete = 0;
    const { promise: allDone, resolve: done } = Promise.withResolvers<void>();
    const groups = [];
    for (const m of mapped) {
      groups.push(await agents(m.port1, m.passcode1, 100, (_, got) => {
        if (got === PAIR_BYTES && ++complete === 2000) done();
      }));
    }
    const payload = Buffer.alloc(PAIR_BYTES, 0x5a);
    const began = performance.now();
    const clients: Socket<{ sent: number }>[] = [];
    const pump = (s: Socket<{ sent: number }>) => {
      while (s.data.sent < payload.length) {
        const n = s.write(payload.subarray(s.data.sent, Math.min(payload.length, s.data.sent + 65536)));
        if (n <= 0) return;
        s.data.sent += n;
      }
    };
    for (const m of mapped) {
      for (let n = 0; n < 100; n++) {
        clients.push(await Bun.connect({ hostname: "127.0.0.1", port: m.port2, data: { sent: 0 }, socket: { open: pump, drain: pump, data() {}, close() {}, error() {} } }));
      }
    }
    const timer = setTimeout(done, 120_000);
    await allDone;
    clearTimeout(timer);
    const seconds = (performance.now() - began) / 1000;
    const statusMs = await timedStatus(i.url);
    const { peak } = memory(child.pid);
    console.log(`load: 2,000 public pairs × ${PAIR_BYTES / 1024} KiB: ${complete} complete in ${seconds.toFixed(1)} s, peak RSS ${(peak / 1024).toFixed(1)} MiB, status in ${statusMs.toFixed(1)} ms`);
    expect(complete).toBe(2000);
    for (const s of clients) s.terminate();
    for (const g of groups) for (const s of g.sockets) s.terminate();
  }, 300_000);
});
