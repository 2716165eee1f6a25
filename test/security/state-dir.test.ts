// Item 10: a state directory that is missing or unwritable is reported at start, and every failed state write is logged.
import { describe, expect, test } from "bun:test";
import { chownSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { instance } from "../support/executable.ts";
import { tempDir } from "../support/temp-dir.ts";
import { canMount, mountTmpfs } from "../support/tmpfs.ts";
import { storedRecords } from "../support/state.ts";

const PUBLIC = JSON.stringify({ type: "public", maxconnections: 60, heartbeatabsencethreshold: 0 });

describe("the state directory", () => {
  test("missing, with a parent that is ours: created (0700) at start, and mappings are saved in it", async () => {
    await using i = instance({ stateFile: "state/configs.json" });
    await i.start();
    expect(statSync(join(i.dir, "state")).mode & 0o777).toBe(0o700);
    const added = await i.post("/api/v2/mapping/add", { mapping: PUBLIC });
    expect(added.status).toBe("ok");
    expect(storedRecords(join(i.dir, "state", "configs.json")).map((r) => r.id)).toEqual([added.id]);
  });

  test("missing, with a missing parent: start refused with one line naming it, exit 1", async () => {
    await using i = instance({ stateFile: "nowhere/state/configs.json" });
    const { code, stdout, stderr } = await i.run("start");
    expect(code).toBe(1);
    const lines = (stdout + stderr).trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`The state directory ${join(i.dir, "nowhere", "state")} does not exist`);
  });

  test.skipIf(!canMount)("missing, in a parent that is not ours: refused, nothing created", async () => {
    using parent = tempDir();
    mkdirSync(join(parent.path, "theirs"));
    chownSync(join(parent.path, "theirs"), 65534, 65534);
    await using i = instance({ stateFile: join(parent.path, "theirs", "state", "configs.json") });
    const { code, stdout, stderr } = await i.run("start");
    expect(code).toBe(1);
    expect(stdout + stderr).toContain(`The state directory ${join(parent.path, "theirs", "state")} does not exist`);
    expect(statSync(join(parent.path, "theirs", "state"), { throwIfNoEntry: false })).toBeUndefined();
  });

  test.skipIf(!canMount)("read-only at start: refused naming the directory and EROFS", async () => {
    using fs = mountTmpfs(256);
    fs.remount("ro");
    await using i = instance({ stateFile: join(fs.path, "configs.json") });
    const { code, stdout, stderr } = await i.run("start");
    fs.remount("rw");
    expect(code).toBe(1);
    expect(stdout + stderr).toContain(`The state directory ${fs.path} does not take new files (EROFS)`);
  });

  test.skipIf(!canMount)("a state write that fails while running is logged at error level with the path and the reason", async () => {
    using fs = mountTmpfs(256);
    await using i = instance({ stateFile: join(fs.path, "configs.json") });
    await i.start();
    fs.remount("ro");
    try {
      const refused = await i.post("/api/v2/mapping/add", { mapping: PUBLIC });
      expect(refused.errormessage).toContain("EROFS");
      expect((await i.post("/api/v2/direct/add", {})).errormessage).toContain("EROFS");
    } finally {
      fs.remount("rw");
    }
    const log = readFileSync(join(i.dir, "log", "iofog-connector.log"), "utf8");
    const errors = log.split("\n").filter((line) => line.includes(`[ERROR] The state file ${join(fs.path, "configs.json")} could not be written (EROFS)`));
    expect(errors).toHaveLength(2);
  });
});
