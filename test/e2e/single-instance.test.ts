import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { randomPortRange, startTestDaemon } from "../support/daemon.ts";
import { EXECUTABLE, instance, whileStopped } from "../support/executable.ts";

const PUBLIC = JSON.stringify({ type: "public", maxconnections: 1, heartbeatabsencethreshold: 0 });

/** Runs one command of the executable, killed after `ms`: a `start` that does not refuse shows up as `ran: true`. */
async function runBounded(config: string, ms: number, ...args: string[]) {
  const child = Bun.spawn([EXECUTABLE, ...args, "--config", config], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const timer = setTimeout(() => child.kill("SIGKILL"), ms);
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr, ran: child.signalCode === "SIGKILL" };
}

/** Sockets in LISTEN state on `port`, over IPv4 and IPv6, as the kernel lists them. */
function listeners(port: number): number {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, "0")} `;
  let count = 0;
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of readFileSync(file, "utf8").split("\n")) {
      const fields = line.trim().split(/\s+/);
      if (fields[1]?.endsWith(hex.trim()) && fields[3] === "0A") count++;
    }
  }
  return count;
}

describe("one daemon per state file", () => {
  test("7: a second start refuses while the first does not answer (SIGSTOP), and the lock goes with a kill -9", async () => {
    await using i = instance();
    const first = await i.start();
    const added = await i.post("/api/v2/mapping/add", { mapping: PUBLIC });
    const second = await whileStopped(first, () => runBounded(i.config, 15_000, "start"));
    console.log(`single instance: second start with the first stopped: exit ${second.code}${second.ran ? " (still running: it started)" : ""}, ${listeners(i.apiPort)} listener(s) on the API port: ${second.stderr.trim()}`);
    expect(second.ran).toBe(false);
    expect(second.code).toBe(4);
    expect(second.stderr).toContain(`process ${first.pid} holds ${join(i.dir, "configs.json.lock")}`);
    expect(listeners(i.apiPort)).toBe(1);

    const answering = await runBounded(i.config, 15_000, "start");
    expect(answering.code).toBe(0);
    expect(answering.stdout).toContain("Connector is already running.");

    first.kill("SIGKILL");
    await first.exited;
    await i.start();
    const list = await i.post("/api/v2/mapping/list", {});
    expect(list.mappings.map((m: { id: string }) => m.id)).toEqual([added.id]);
  }, 60_000);

  test("7: the API port is not shared: a Connector with another state file cannot bind it while the first does not answer", async () => {
    await using a = instance();
    const first = await a.start();
    await using b = instance({ apiPort: a.apiPort });
    const second = await whileStopped(first, () => runBounded(b.config, 15_000, "start"));
    expect(second.ran).toBe(false);
    expect(second.code).toBe(1);
    expect(second.stdout + second.stderr).toContain(`The API cannot listen on port ${a.apiPort}: another program already uses it.`);
    expect(listeners(a.apiPort)).toBe(1);
  }, 60_000);

  test("7: relay ports are not shared either: a second Connector on the same pool gets none of the first's ports", async () => {
    const range = randomPortRange(20);
    const ports = [{ from: range.from, to: range.to }];
    await using a = await startTestDaemon({ ports });
    await using b = await startTestDaemon({ ports });
    // The first takes every pool port it can bind (ports other programs hold are skipped).
    const held: number[] = [];
    for (let n = 0; n < 10; n++) {
      const added = await a.post("/api/v2/mapping/add", { mapping: PUBLIC });
      if (added.status !== 200) break;
      held.push(added.body.port1, added.body.port2);
    }
    expect(held.length).toBeGreaterThan(0);
    const second = await b.post("/api/v2/mapping/add", { mapping: PUBLIC });
    const taken = second.status === 200 ? [second.body.port1, second.body.port2] : [];
    expect(taken.filter((port) => held.includes(port))).toEqual([]);
    expect(held.map(listeners)).toEqual(held.map(() => 1));
  });
});
