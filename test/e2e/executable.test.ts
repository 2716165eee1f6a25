import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { instance, writeSettings } from "../support/executable.ts";
import { tempDir } from "../support/temp-dir.ts";

const PUBLIC = JSON.stringify({ type: "public", maxconnections: 60, heartbeatabsencethreshold: 200000 });
const PRIVATE = JSON.stringify({ type: "private", maxconnectionsport1: 1, maxconnectionsport2: 1, heartbeatabsencethresholdport1: 0, heartbeatabsencethresholdport2: 0 });

describe("the compiled executable", () => {
  test("version and help, with every alias; no argument is usage", async () => {
    await using i = instance();
    for (const flag of ["version", "-v", "--version"]) {
      const { code, stdout } = await i.run(flag);
      expect(code).toBe(0);
      expect(stdout).toContain("ioFog Connector 2.0.0");
      expect(stdout).toContain("Eclipse Public License");
    }
    for (const flag of ["help", "-h", "-?", "--help"]) {
      const { code, stdout } = await i.run(flag);
      expect(code).toBe(0);
      expect(stdout).toContain("Usage: iofog-connector <command>");
    }
    const bare = Bun.spawnSync([(await import("../support/executable.ts")).EXECUTABLE]);
    expect(bare.exitCode).toBe(0);
    expect(bare.stdout.toString()).toContain("Usage:");
    const unknown = await i.run("frobnicate");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('Unknown command "frobnicate"');
  });

  test("start, status, add, stop, restart with the same mappings, stop", async () => {
    await using i = instance();
    const notRunning = await i.run("status");
    expect(notRunning.code).toBe(3);
    expect(notRunning.stderr).toContain("Connector is not running.");
    expect((await i.run("stop")).code).toBe(3);

    const first = await i.start();
    const again = await i.run("start");
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("Connector is already running.");

    const pub = await i.post("/api/v2/mapping/add", { mapping: PUBLIC });
    const priv = await i.post("/api/v2/mapping/add", { mapping: PRIVATE });
    expect(pub.status).toBe("ok");
    const status = await i.run("status");
    expect(status.code).toBe(0);
    expect(status.stdout).toContain("Connector 2.0.0 is running");
    expect(status.stdout).toContain("Mappings: 2");
    expect(status.stdout).toContain(pub.id.slice(0, 8));
    const json = JSON.parse((await i.run("status", "--json")).stdout);
    expect(json.list.map((m: { id: string }) => m.id).sort()).toEqual([pub.id, priv.id].sort());

    const stop = await i.run("stop");
    expect(stop.code).toBe(0);
    expect(await first.exited).toBe(0);

    await i.start();
    const list = await i.post("/api/v2/mapping/list", {});
    const restored = list.mappings.map((m: { id: string; port1: number; port2: number }) => `${m.id}:${m.port1}:${m.port2}`).sort();
    expect(restored).toEqual([`${pub.id}:${pub.port1}:${pub.port2}`, `${priv.id}:${priv.port1}:${priv.port2}`].sort());
    expect((await i.post("/api/v2/status", { mappingid: pub.id })).public).toBe("Active");
    expect((await i.run("stop")).code).toBe(0);
    const log = readFileSync(join(i.dir, "log", "iofog-connector.log"), "utf8");
    expect(log).toContain("Connector stopped.");
    for (const secret of [pub.passcode1, priv.passcode1, priv.passcode2]) expect(log).not.toContain(secret);
  });

  test("SIGTERM stops the daemon gracefully with exit 0", async () => {
    await using i = instance();
    const child = await i.start();
    child.kill("SIGTERM");
    expect(await child.exited).toBe(0);
  });

  test("a bad settings file: one line naming file and field, exit 1, no stack trace", async () => {
    using dir = tempDir();
    await using i = instance({}, { dir: dir.path });
    const config = writeSettings(dir.path, { ports: ["6000-70000"], broker: 1, address: "127.0.0.1", dev: true });
    const child = Bun.spawnSync([(await import("../support/executable.ts")).EXECUTABLE, "start", "--config", config], { timeout: 30_000 });
    expect(child.exitCode).toBe(1);
    const stderr = child.stderr.toString().trim();
    expect(stderr.split("\n")).toHaveLength(1);
    expect(stderr).toContain(config);
    expect(stderr).toBe(`Settings file ${config}: ports[0] must be a port range within 1-65535 (got "6000-70000").`);
    expect(stderr).not.toContain("    at ");
    expect(i.config).toBe(config);
  });

  test("IOFOG_CONNECTOR_CONFIG chooses the settings file", async () => {
    await using i = instance();
    await i.start();
    const exe = (await import("../support/executable.ts")).EXECUTABLE;
    const child = Bun.spawnSync([exe, "status"], { env: { ...process.env, IOFOG_CONNECTOR_CONFIG: i.config }, timeout: 30_000 });
    expect(child.exitCode).toBe(0);
    expect(child.stdout.toString()).toContain("is running");
  });

  test("a corrupt state file stops the start and is kept as it was", async () => {
    await using i = instance();
    const state = join(i.dir, "configs.json");
    writeFileSync(state, '{"mappings":[{"id":"a","port1":');
    const { code, stdout } = await i.run("start");
    expect(code).toBe(1);
    expect(stdout).toContain(`State file ${state} is not valid JSON`);
    expect(readFileSync(state, "utf8")).toBe('{"mappings":[{"id":"a","port1":');
  });

  test("asking for port 443 without root says so", async () => {
    if (process.getuid?.() !== 0) return; // needs root to drop to an unprivileged user
    using dir = tempDir();
    Bun.spawnSync(["chmod", "755", dir.path]);
    await using i = instance({ apiPort: 443, logDir: "/tmp" }, { wrap: ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"], dir: dir.path });
    const { code, stderr } = await i.run("start");
    expect(code).toBe(1);
    expect(stderr).toContain("port 443 needs root or CAP_NET_BIND_SERVICE");
  });
});
