// Item 16: direct records are bounded: a cap (507 past it) and durable expiry of records no agent ever called.
import { describe, expect, test } from "bun:test";
import { stateOnDisk, storedRecords } from "../support/state.ts";
import { loadState } from "../../src/store/journal.ts";
import { startTestDaemon } from "../support/daemon.ts";
import { manualClock } from "../support/manual-clock.ts";
import { tempDir } from "../support/temp-dir.ts";

/** The documented expiry of a direct record no agent has called. */
const DIRECT_UNUSED_EXPIRY_MS = 24 * 3_600_000;
const directIds = (file: string) => loadState(file).map((entry) => (entry.kind === "direct" ? entry.direct.id : `mapping ${entry.mapping.id}`));

describe("direct records are bounded", () => {
  test("past maxDirects, direct/add is 507 with an errormessage and changes nothing; a remove makes room", async () => {
    await using d = await startTestDaemon({ maxDirects: 3 });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await d.post("/api/v2/direct/add", {})).body.id);
    const before = stateOnDisk(d.settings.stateFile);
    const refused = await d.post("/api/v2/direct/add", {});
    expect(refused.status).toBe(507);
    expect(refused.body.errormessage).toBe(
      'The Connector already keeps 3 direct connections, the most it keeps ("maxDirects" in the settings); remove unused ones with direct/remove.',
    );
    expect(stateOnDisk(d.settings.stateFile)).toBe(before);
    expect(d.daemon.service.directCount).toBe(3);
    await d.post("/api/v2/direct/remove", { mappingid: ids[0]! });
    expect((await d.post("/api/v2/direct/add", {})).status).toBe(200);
  });

  test("a record no agent called within 24 h is removed from the state file, also across a restart; a used one stays", async () => {
    using dir = tempDir();
    const clock = manualClock();
    const first = await startTestDaemon({}, { dir: dir.path, clock });
    const stateFile = first.settings.stateFile;
    let used: string;
    try {
      const [a, b, c] = [await first.post("/api/v2/direct/add", {}), await first.post("/api/v2/direct/add", {}), await first.post("/api/v2/direct/add", {})].map((r) => r.body);
      used = a.id;
      const side = { id: a.id, passkey: a.passkey, ip: "10.0.0.1", port: "5000", certificate: "" };
      expect((await first.post("/api/v2/direct", side)).body.status).toBe("wait");
      clock.advance(DIRECT_UNUSED_EXPIRY_MS - 60_000);
      const mid = (await first.post("/api/v2/direct/add", {})).body; // written after any sweep so far
      expect(directIds(stateFile)).toEqual([a.id, b.id, c.id, mid.id]);

      clock.advance(60_000);
      const late = (await first.post("/api/v2/direct/add", {})).body; // written after the sweep's write
      expect(directIds(stateFile)).toEqual([a.id, mid.id, late.id]);
      expect((await first.post("/api/v2/direct", { ...side, id: b.id, passkey: b.passkey })).status).toBe(404);
      expect(first.lines.some((line) => line.includes("[INFO] Removed 2 direct rendezvous never used within 24 h"))).toBe(true);
      const stored = storedRecords(stateFile);
      expect(stored.find((r: { id: string }) => r.id === a.id)?.unusedsince).toBeUndefined();
      expect(stored.find((r: { id: string }) => r.id === late.id)?.unusedsince).toBe(clock.now());
    } finally {
      await first.daemon.stop();
    }

    // Restarted two days later: what was never called goes at start, the used record stays.
    const later = manualClock(clock.now() + 2 * DIRECT_UNUSED_EXPIRY_MS);
    await using second = await startTestDaemon({}, { dir: dir.path, clock: later });
    const fresh = (await second.post("/api/v2/direct/add", {})).body;
    expect(directIds(stateFile).sort()).toEqual([used, fresh.id].sort());
  });
});
