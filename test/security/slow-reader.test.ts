import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import type { Socket } from "bun";
import { instance } from "../support/executable.ts";
import { stalled } from "../support/stalled.ts";

const rssKiB = (pid: number) => Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);

/** Writes as fast as the far side lets it for `ms`, and returns how many bytes were taken. */
async function flood(socket: Socket<undefined>, ms: number): Promise<number> {
  const block = Buffer.alloc(256 * 1024, 0x42);
  let taken = 0;
  const until = performance.now() + ms;
  while (performance.now() < until) {
    const n = socket.write(block);
    if (n > 0) taken += n;
    else await Bun.sleep(5);
  }
  return taken;
}

const legs = [
  { name: "public: the agent stops reading while the client sends", kind: "public", reader: 1, sender: 2 },
  { name: "private: one agent stops reading while the other sends", kind: "private", reader: 2, sender: 1 },
  { name: "private: the other agent is absent while one sends", kind: "private", reader: 0, sender: 1 },
] as const;

for (const leg of legs) {
  test(`slow reader, ${leg.name}: the daemon's memory stays within the per-pair bound`, async () => {
    await using i = instance();
    const child = await i.start();
    const mapping = leg.kind === "public"
      ? { type: "public", maxconnections: 1, heartbeatabsencethreshold: 0 }
      : { type: "private", maxconnectionsport1: 1, maxconnectionsport2: 1, heartbeatabsencethresholdport1: 0, heartbeatabsencethresholdport2: 0 };
    const m = await i.post("/api/v2/mapping/add", { mapping: JSON.stringify(mapping) });
    const passcode = (side: number) => (side === 1 ? m.passcode1 : leg.kind === "private" ? m.passcode2 : undefined);
    const port = (side: number) => (side === 1 ? m.port1 : m.port2);
    const sockets: Socket<undefined>[] = [];
    if (leg.reader !== 0) sockets.push(await stalled(port(leg.reader), passcode(leg.reader)));
    const sender = await stalled(port(leg.sender), passcode(leg.sender));
    sender.resume();
    sockets.push(sender);
    await Bun.sleep(200);
    const before = rssKiB(child.pid);
    const taken = await flood(sender, 2000);
    const after = rssKiB(child.pid);
    const growthMiB = (after - before) / 1024;
    console.log(`slow reader (${leg.name}): sender got ${(taken / 1048576).toFixed(1)} MiB in before being stopped; daemon RSS grew ${growthMiB.toFixed(1)} MiB`);
    expect(taken).toBeLessThan(64 * 1024 * 1024);
    expect(growthMiB).toBeLessThan(16);
    for (const s of sockets) s.terminate();
  }, 60_000);
}
