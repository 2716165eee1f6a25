import { describe, expect, test } from "bun:test";
import type { Socket } from "bun";
import { readFileSync } from "node:fs";
import { instance } from "../support/executable.ts";

const LIMIT = 400;
const FLOOD = 500;
const PUBLIC = JSON.stringify({ type: "public", maxconnections: 1, heartbeatabsencethreshold: 0 });

/** CPU time (user + system) the process has used, in clock ticks. */
const cpuTicks = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return Number(fields[11]) + Number(fields[12]);
};

describe("API requests that never finish, under a descriptor limit", () => {
  test(`8: under ulimit -n ${LIMIT}, ${FLOOD} half-sent API requests: the API keeps answering and the daemon does not spin`, async () => {
    await using i = instance({}, { wrap: ["prlimit", `--nofile=${LIMIT}`] });
    const daemon = await i.start();
    const flood: { socket: Socket<undefined>; closed: boolean }[] = [];
    for (let n = 0; n < FLOOD; n++) {
      const entry = { closed: false } as { socket: Socket<undefined>; closed: boolean };
      entry.socket = await Bun.connect({ hostname: "127.0.0.1", port: i.apiPort, socket: { data() {}, close: () => void (entry.closed = true), error() {} } });
      entry.socket.write("POST /api/v2/status HTTP/1.1\r\nHost: x\r\nContent-Length: 13\r\n");
      flood.push(entry);
    }
    const ticks = cpuTicks(daemon.pid);
    const began = performance.now();
    const call = (path: string, body: string) =>
      fetch(`${i.url}${path}`, { method: "POST", body, headers: { "content-type": "application/x-www-form-urlencoded" }, signal: AbortSignal.timeout(5000) })
        .then((r) => r.status, (error: Error) => error.name);
    const status = await call("/api/v2/status", "mappingid=all");
    const added = await call("/api/v2/mapping/add", `mapping=${encodeURIComponent(PUBLIC)}`);
    await Bun.sleep(1000);
    const cpu = (cpuTicks(daemon.pid) - ticks) / 100 / ((performance.now() - began) / 1000);
    const cut = flood.filter((f) => f.closed).length;
    const cli = await i.run("status");
    console.log(`API flood: ulimit -n ${LIMIT}, ${FLOOD} half-sent requests, ${cut} closed by the Connector to make room; during it status ${status}, mapping/add ${added}, CLI status exit ${cli.code}; daemon CPU ${(cpu * 100).toFixed(0)} % of a core`);
    for (const f of flood) f.socket.terminate();
    expect(status).toBe(200);
    expect(added).toBe(200);
    expect(cli.code).toBe(0);
    expect(cut).toBeGreaterThan(0);
    expect(cpu).toBeLessThan(0.5);
    expect((await i.run("status")).code).toBe(0);
  }, 60_000);
});
