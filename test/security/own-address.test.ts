import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomPortRange } from "../support/daemon.ts";
import { ensureExecutable, freePort, writeSettings } from "../support/executable.ts";
import { canCreateHosts, createTestHost } from "../support/netns.ts";

describe.skipIf(!canCreateHosts)("a Connector whose address is its own non-loopback IP", () => {
  test("14: the command line works over it, and a caller from another address is still refused commandline", async () => {
    const exe = ensureExecutable();
    using host = createTestHost();
    const dir = mkdtempSync(join(tmpdir(), "iofog-own-"));
    const apiPort = freePort();
    const range = randomPortRange(20);
    // The daemon runs inside the namespace, where peerAddress is this machine's own address.
    const config = writeSettings(dir, {
      ports: [`${range.from}-${range.to}`], broker: 12345, address: host.peerAddress, dev: true, apiPort, logDir: "log",
    });
    const daemon = Bun.spawn(["ip", "netns", "exec", host.name, exe, "start", "--config", config], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
    try {
      const url = `http://${host.peerAddress}:${apiPort}`;
      let ready = false;
      for (let n = 0; n < 100 && !ready && daemon.exitCode === null; n++) {
        ready = await fetch(`${url}/api/v2/status`, { method: "POST", body: "mappingid=all", signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false);
        if (!ready) await Bun.sleep(100);
      }
      expect(ready).toBe(true);

      const status = await host.run([exe, "status", "--config", config]);
      const remote = await fetch(`${url}/api/v2/commandline`, { method: "POST", body: "command=stop", signal: AbortSignal.timeout(5000) });
      const remoteBody = (await remote.json()) as { errormessage: string };
      console.log(`own address (${host.peerAddress}): CLI status exit ${status.code}${status.code ? ` (${status.stderr.trim()})` : ""}; commandline stop from ${host.hostAddress}: ${remote.status}`);
      expect(status.code).toBe(0);
      expect(status.stdout).toContain("is running");
      expect(remote.status).toBe(403);
      expect(remoteBody.errormessage).toContain("not allowed");
      expect(daemon.exitCode).toBeNull();
      const again = await host.run([exe, "start", "--config", config]);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain("Connector is already running.");

      const stop = await host.run([exe, "stop", "--config", config]);
      expect(stop.code).toBe(0);
      expect(await daemon.exited).toBe(0);
    } finally {
      daemon.kill("SIGKILL");
      await daemon.exited;
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
