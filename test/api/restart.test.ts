import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { canConnect, randomPortRange, startTestDaemon } from "../support/daemon.ts";
import { holdPort } from "../support/hold-port.ts";
import { tempDir } from "../support/temp-dir.ts";

const PUBLIC = JSON.stringify({ type: "public", maxconnections: 60, heartbeatabsencethreshold: 200000 });

describe("restart", () => {
  test("mappings come back on their ports; the pool counts them as taken; new mappings avoid them", async () => {
    using dir = tempDir();
    const ports = [randomPortRange(10)];
    let added: { id: string; port1: number; port2: number }[];
    {
      await using d = await startTestDaemon({ ports }, { dir: dir.path });
      added = await Promise.all([1, 2, 3].map(async () => (await d.post("/api/v2/mapping/add", { mapping: PUBLIC })).body));
      await d.post("/api/v2/direct/add", {});
    }
    await using d = await startTestDaemon({ ports }, { dir: dir.path });
    const all = (await d.post("/api/v2/status", { mappingid: "all" })).body;
    expect(all.mappings).toBe(3);
    expect(all.availablePorts).toBe(4);
    for (const m of added) {
      expect(await canConnect(m.port1)).toBe(true);
      expect((await d.post("/api/v2/status", { mappingid: m.id })).body.public).toBe("Active");
    }
    const fresh = (await d.post("/api/v2/mapping/add", { mapping: PUBLIC })).body;
    const used = new Set(added.flatMap((m) => [m.port1, m.port2]));
    expect(used.has(fresh.port1) || used.has(fresh.port2)).toBe(false);
  });

  test("a Java-written state file with mappings outside the pool still reopens them", async () => {
    using dir = tempDir();
    const outside = randomPortRange(2);
    writeFileSync(dir.file("configs.json"), JSON.stringify({
      mappings: [{ id: "java-1", port1: String(outside.from), port2: String(outside.to), maxconnectionsport1: "60", maxconnectionsport2: "60",
        passcodeport1: "0b403b65-1111-4222-8333-944455556666", passcodeport2: "", heartbeatabsencethresholdport1: "200000", heartbeatabsencethresholdport2: "0" }],
    }));
    await using d = await startTestDaemon({ ports: [randomPortRange(4)] }, { dir: dir.path });
    expect(d.daemon.service.count).toBe(1);
    expect(d.daemon.service.availablePorts).toBe(4);
    expect(await canConnect(outside.from)).toBe(true);
    // The first compaction (here at a clean stop) rewrites numbers as numbers and keeps the record otherwise as it was.
    await d.post("/api/v2/direct/add", {});
    await d.daemon.stop();
    const record = JSON.parse(readFileSync(dir.file("configs.json"), "utf8")).mappings[0];
    expect(record).toMatchObject({ id: "java-1", port1: outside.from, maxconnectionsport2: 60, passcodeport2: "" });
  });

  test("a restored mapping whose port another program holds is Inactive, then Active once the port frees", async () => {
    using dir = tempDir();
    const ports = [randomPortRange(2)];
    let mapping: { id: string; port1: number; port2: number };
    {
      await using d = await startTestDaemon({ ports }, { dir: dir.path });
      mapping = (await d.post("/api/v2/mapping/add", { mapping: PUBLIC })).body;
    }
    await using held = await holdPort(mapping.port2);
    await using d = await startTestDaemon({ ports }, { dir: dir.path });
    const before = (await d.post("/api/v2/status", { mappingid: mapping.id })).body;
    expect(before).toMatchObject({ public: "Inactive", private: "Active" });
    await held.release();
    let after = "";
    for (let i = 0; i < 50 && after !== "Active"; i++) {
      await Bun.sleep(100);
      after = (await d.post("/api/v2/status", { mappingid: mapping.id })).body.public;
    }
    expect(after).toBe("Active");
  });
});
