import { expect, test } from "bun:test";
import type { Socket } from "bun";
import { instance } from "../support/executable.ts";
import { authorize } from "../support/wire.ts";

test("SIGTERM during heavy traffic: stops accepting, ends every pair cleanly, exits 0 in bounded time; a restart brings the mappings back", async () => {
  await using i = instance();
  const child = await i.start();
  const m = await i.post("/api/v2/mapping/add", { mapping: JSON.stringify({ type: "public", maxconnections: 40, heartbeatabsencethreshold: 0 }) });
  const PAIRS = 20;
  let received = 0;
  let agentsEnded = 0;
  const resets: string[] = [];
  let closed = 0;
  const { promise: closedPromise, resolve: allClosed } = Promise.withResolvers<void>();
  const agents: Socket<{ authorized: boolean }>[] = [];
  for (let n = 0; n < PAIRS; n++) {
    const { promise, resolve } = Promise.withResolvers<void>();
    agents.push(await Bun.connect({
      hostname: "127.0.0.1",
      port: m.port1,
      data: { authorized: false as boolean },
      socket: {
        open: (s) => void s.write(m.passcode1),
        data(s, chunk) {
          if (!s.data.authorized) {
            s.data.authorized = true;
            resolve();
            chunk = chunk.subarray(10);
          }
          received += chunk.byteLength;
        },
        close(_, error) {
          if (error === undefined) agentsEnded++;
          else resets.push(String(error));
          if (++closed === PAIRS) allClosed();
        },
        error() {},
      },
    }));
    await promise;
  }
  const block = Buffer.alloc(64 * 1024, 0x61);
  let stopWriting = false;
  const pump = (s: Socket<undefined>) => {
    while (!stopWriting && s.write(block) === block.length);
  };
  const clients: Socket<undefined>[] = [];
  for (let n = 0; n < PAIRS; n++) clients.push(await Bun.connect({ hostname: "127.0.0.1", port: m.port2, socket: { open: pump, drain: pump, data() {}, close() {}, error() {} } }));
  await Bun.sleep(500);
  const flowing = received;
  const began = performance.now();
  child.kill("SIGTERM");
  const code = await Promise.race([child.exited, Bun.sleep(15_000).then(() => "timeout")]);
  const seconds = (performance.now() - began) / 1000;
  stopWriting = true;
  const refused = !(await authorize(m.port1, m.passcode1, 1000));
  await Promise.race([closedPromise, Bun.sleep(10_000)]);
  console.log(`shutdown: SIGTERM with ${PAIRS} pairs moving (${(flowing / 1048576).toFixed(0)} MiB relayed before it): exit ${code} after ${seconds.toFixed(2)} s, ${agentsEnded} of ${PAIRS} agent connections ended with FIN${resets.length ? `, resets: ${resets.slice(0, 3).join("; ")}` : ""}`);
  expect(flowing).toBeGreaterThan(0);
  expect(code).toBe(0);
  expect(refused).toBe(true);
  expect(agentsEnded).toBe(PAIRS);
  for (const s of [...agents, ...clients]) s.terminate();

  await i.start();
  expect((await i.post("/api/v2/status", { mappingid: m.id })).public).toBe("Active");
  expect(await authorize(m.port1, m.passcode1)).toBe(true);
}, 60_000);
