import { describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { canConnect, startTestDaemon } from "../support/daemon.ts";
import { stateOnDisk, storedRecords } from "../support/state.ts";
import { canMount, mountTmpfs } from "../support/tmpfs.ts";

const PUBLIC = JSON.stringify({ type: "public", maxconnections: 60, heartbeatabsencethreshold: 0 });

describe.skipIf(!canMount)("storage failures", () => {
  test("a full disk: add and remove fail with a clear 503 and change nothing; existing mappings keep serving; space back, adds work", async () => {
    using fs = mountTmpfs(256);
    const stateFile = join(fs.path, "configs.json");
    await using d = await startTestDaemon({ stateFile });
    const existing = (await d.post("/api/v2/mapping/add", { mapping: PUBLIC })).body;
    const kept: { id: string }[] = [existing];
    for (let i = 0; i < 6; i++) kept.push((await d.post("/api/v2/mapping/add", { mapping: PUBLIC })).body);
    // Fill the file system to the last byte.
    const filler = join(fs.path, "filler");
    try {
      writeFileSync(filler, Buffer.alloc(512 * 1024));
    } catch {
      // ENOSPC: the file holds what fitted
    }
    // The journal's last page may still take a few records; each one answered is kept, the first refused changes nothing.
    const refusal = async (request: () => Promise<{ status: number; body: Record<string, unknown> }>, onOk: () => void) => {
      for (let tries = 0; tries < 64; tries++) {
        const before = stateOnDisk(stateFile);
        const count = d.daemon.service.count;
        const free = d.daemon.service.availablePorts;
        const answer = await request();
        if (answer.status === 200) {
          onOk();
          continue;
        }
        expect(answer.status).toBe(503);
        expect(stateOnDisk(stateFile)).toBe(before);
        expect(d.daemon.service.count).toBe(count);
        expect(d.daemon.service.availablePorts).toBe(free);
        return answer.body.errormessage;
      }
      throw new Error("the full disk took 64 records");
    };
    let added: { id: string } | undefined;
    const addMessage = await refusal(async () => {
      const answer = await d.post("/api/v2/mapping/add", { mapping: PUBLIC });
      added = answer.body;
      return answer;
    }, () => kept.push(added!));
    expect(addMessage).toContain("could not be written (ENOSPC)");
    const removeMessage = await refusal(() => d.post("/api/v2/mapping/remove", { mappingid: kept.at(-1)!.id }), () => kept.pop());
    expect(removeMessage).toContain("could not be written (ENOSPC)");
    expect(storedRecords(stateFile).map((r) => r.id).sort()).toEqual(kept.map((m) => m.id).sort());
    expect(await canConnect(existing.port1)).toBe(true);
    expect(await canConnect(existing.port2)).toBe(true);
    rmSync(filler);
    expect((await d.post("/api/v2/mapping/add", { mapping: PUBLIC })).status).toBe(200);
    console.log(`full disk: add and remove refused with 503 (ENOSPC), state files unchanged by them, ${d.daemon.service.count} mappings after space came back`);
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
