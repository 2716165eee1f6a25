import { describe, expect, test } from "bun:test";
import { instance, whileStopped } from "../support/executable.ts";
import { stalled } from "../support/stalled.ts";

const PUBLIC = JSON.stringify({ type: "public", maxconnections: 1, heartbeatabsencethreshold: 0 });

describe("the command line tells not running from not answering", () => {
  test("13: status and stop exit 4 for a daemon that is alive but stopped (SIGSTOP), 3 once it is gone", async () => {
    await using i = instance();
    const daemon = await i.start();
    const [status, stop] = await whileStopped(daemon, () => Promise.all([i.run("status"), i.run("stop")]));
    console.log(`not answering: status exit ${status.code} (${status.stderr.trim()}), stop exit ${stop.code}`);
    expect(status.code).toBe(4);
    expect(status.stderr).toContain(`Connector (process ${daemon.pid}) is running but does not answer at http://127.0.0.1:${i.apiPort}`);
    expect(stop.code).toBe(4);
    expect((await i.run("status")).code).toBe(0);
    daemon.kill("SIGKILL");
    await daemon.exited;
    const gone = await i.run("status");
    expect(gone.code).toBe(3);
    expect(gone.stderr).toContain("Connector is not running.");
  }, 60_000);

  test("13: stop returns once the daemon has let go of its state file, so that a start can follow at once", async () => {
    await using i = instance();
    const daemon = await i.start();
    const m = await i.post("/api/v2/mapping/add", { mapping: PUBLIC });
    expect(m).toMatchObject({ status: "ok" });
    // A public client writing to an agent that never reads: the shutdown spends its grace flushing it.
    const agent = await stalled(m.port1, m.passcode1);
    const client = await stalled(m.port2);
    const block = Buffer.alloc(1024 * 1024, 0x42);
    for (let n = 0; n < 64 && client.write(block) > 0; n++) await Bun.sleep(1);
    const stop = await i.run("stop");
    expect(stop.code).toBe(0);
    expect(stop.stdout).toContain("Connector stopped.");
    await i.start();
    expect((await i.post("/api/v2/mapping/list", {})).mappings).toHaveLength(1);
    agent.terminate();
    client.terminate();
  }, 60_000);
});
