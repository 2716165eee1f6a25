import { describe, expect, test } from "bun:test";
import type { Socket } from "bun";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { API_RESERVE, createDescriptorGate, DESCRIPTOR_RESERVE, descriptorLimit } from "../../src/descriptors.ts";
import { createLogger } from "../../src/log.ts";
import { manualClock } from "../support/manual-clock.ts";
import { instance } from "../support/executable.ts";
import { authorize } from "../support/wire.ts";

const LIMIT = 200;

describe("descriptor exhaustion", () => {
  test("the soft limit is read from /proc/self/limits", () => {
    expect(descriptorLimit("Limit Soft Limit Hard Limit Units\nMax open files            1024                 4096                 files\n")).toBe(1024);
    expect(descriptorLimit("Max open files            unlimited            unlimited            files\n")).toBeUndefined();
    expect(descriptorLimit("")).toBeUndefined();
  });

  test("API connections count against the reserve and may go further into it than relay connections", () => {
    let inUse = 0;
    const lines: string[] = [];
    const log = createLogger({ level: "info", write: (line) => void lines.push(line) });
    const gate = createDescriptorGate({ limit: 1000, base: 100, inUse: () => inUse, clock: manualClock(), log });
    inUse = 1000 - 100 - DESCRIPTOR_RESERVE - 1;
    expect([gate.admit(), gate.admitApi()]).toEqual([true, true]);
    inUse++;
    expect([gate.admit(), gate.admitApi()]).toEqual([false, true]);
    inUse = 1000 - 100 - API_RESERVE;
    expect([gate.admit(), gate.admitApi()]).toEqual([false, false]);
    expect(lines.filter((line) => line.includes("Near the limit"))).toHaveLength(1);
  });

  test(`under ulimit -n ${LIMIT}: a flood is held to a share of the descriptors, logged once, the API stays up, and agents get in once it ends`, async () => {
    await using i = instance({}, { wrap: ["prlimit", `--nofile=${LIMIT}`] });
    await i.start();
    const m = await i.post("/api/v2/mapping/add", { mapping: JSON.stringify({ type: "public", maxconnections: 10, heartbeatabsencethreshold: 0 }) });
    const flood: { socket?: Socket<undefined>; closed: boolean }[] = [];
    for (let n = 0; n < LIMIT * 2; n++) {
      const entry: { socket?: Socket<undefined>; closed: boolean } = { closed: false };
      entry.socket = await Bun.connect({ hostname: "127.0.0.1", port: m.port1, socket: { data() {}, close: () => void (entry.closed = true), error() {} } });
      flood.push(entry);
    }
    await Bun.sleep(300);
    const status = await fetch(`${i.url}/api/v2/status`, { method: "POST", body: "mappingid=all", signal: AbortSignal.timeout(5000) }).then((r) => r.status, String);
    const closed = flood.filter((f) => f.closed).length;
    for (const f of flood) f.socket?.terminate();
    let agentIn = false;
    for (let n = 0; n < 50 && !agentIn; n++) {
      agentIn = await authorize(m.port1, m.passcode1);
      if (!agentIn) await Bun.sleep(100);
    }
    const log = readFileSync(join(i.dir, "log", "iofog-connector.log"), "utf8");
    const lines = log.split("\n");
    const reports = lines.filter((line) => line.includes("closed to make room for newer ones")).length;
    const flooders = lines.filter((line) => line.includes("keep ending without a handshake")).length;
    console.log(
      `descriptors: ulimit -n ${LIMIT}, ${flood.length} connections, ${closed} closed by the Connector, API status ${status} during the flood, ` +
        `${reports + flooders} log line(s), agent authorized afterwards: ${agentIn}`,
    );
    expect(status).toBe(200);
    expect(closed).toBeGreaterThan(LIMIT / 2);
    expect(reports).toBe(1);
    expect(flooders).toBe(1);
    expect(agentIn).toBe(true);
    expect((await i.run("status")).code).toBe(0);
  }, 60_000);
});
