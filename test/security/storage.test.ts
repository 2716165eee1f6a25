import { describe, expect, test } from "bun:test";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { canConnect, startTestDaemon } from "../support/daemon.ts";
import { canMount, mountTmpfs } from "../support/tmpfs.ts";

const PUBLIC = JSON.stringify({ type: "public", maxconnections: 60, heartbeatabsencethreshold: 0 });

describe.skipIf(!canMount)("storage failures", () => {
  test("a full disk: add fails with a clear 503 and changes nothing; existing mappings keep serving; space back, adds work", async () => {
    using fs = mountTmpfs(256);
    await using d = await startTestDaemon({ stateFile: join(fs.path, "configs.json") });
    const existing = (await d.post("/api/v2/mapping/add", { mapping: PUBLIC })).body;
    const before = readFileSync(join(fs.path, "configs.json"), "utf8");
    const free = d.daemon.service.availablePorts;
    // Fill the file system to the last byte.
    const filler = join(fs.path, "filler");
    try {
      writeFileSync(filler, Buffer.alloc(512 * 1024));
    } catch {
      // ENOSPC: the file holds what fitted
    }
    const refused = await d.post("/api/v2/mapping/add", { mapping: PUBLIC });
    expect(refused.status).toBe(503);
    expect(refused.body.errormessage).toContain("could not be written (ENOSPC)");
    expect(d.daemon.service.count).toBe(1);
    expect(d.daemon.service.availablePorts).toBe(free);
    expect(readFileSync(join(fs.path, "configs.json"), "utf8")).toBe(before);
    const removeRefused = await d.post("/api/v2/mapping/remove", { mappingid: existing.id });
    expect(removeRefused.status).toBe(503);
    expect(await canConnect(existing.port1)).toBe(true);
    expect(await canConnect(existing.port2)).toBe(true);
    rmSync(filler);
    expect((await d.post("/api/v2/mapping/add", { mapping: PUBLIC })).status).toBe(200);
    console.log(`full disk: add and remove refused with 503 (ENOSPC), state file unchanged, ${d.daemon.service.count} mappings after space came back`);
  });

  test("a read-only state directory: add and remove fail with 503 and change nothing", async () => {
    using fs = mountTmpfs(1024);
    await using d = await startTestDaemon({ stateFile: join(fs.path, "configs.json") });
    const existing = (await d.post("/api/v2/mapping/add", { mapping: PUBLIC })).body;
    fs.remount("ro");
    try {
      const refused = await d.post("/api/v2/mapping/add", { mapping: PUBLIC });
      expect(refused.status).toBe(503);
      expect(refused.body.errormessage).toContain("EROFS");
      const removeRefused = await d.post("/api/v2/mapping/remove", { mappingid: existing.id });
      expect(removeRefused.status).toBe(503);
      expect(d.daemon.service.count).toBe(1);
      expect(await canConnect(existing.port1)).toBe(true);
    } finally {
      fs.remount("rw");
    }
    expect((await d.post("/api/v2/mapping/remove", { mappingid: existing.id })).status).toBe(200);
  });
});
