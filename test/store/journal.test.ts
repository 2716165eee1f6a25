import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { ConnectorError } from "../../src/errors.ts";
import { createJournal, loadState, restoreState } from "../../src/store/journal.ts";
import { fromRecord, type Entry } from "../../src/store/schema.ts";
import { encodeEntry, loadSnapshot } from "../../src/store/state-file.ts";
import { tempDir } from "../support/temp-dir.ts";

const entry = (i: number): Entry => fromRecord({
  id: `id-${i}`, port1: 1000 + 2 * i, port2: 1001 + 2 * i, maxconnectionsport1: 60, maxconnectionsport2: 0,
  passcodeport1: `pass-${i}`, passcodeport2: "", heartbeatabsencethresholdport1: 200000, heartbeatabsencethresholdport2: 0,
});
const put = (i: number) => `{"put":${encodeEntry(entry(i))}}\n`;
const remove = (i: number) => `{"remove":"id-${i}"}\n`;
const snapshot = (...ids: number[]) => `{"mappings":[${ids.map((i) => encodeEntry(entry(i))).join(",")}]}\n`;
const ids = (entries: Entry[]) => entries.map((e) => (e.kind === "mapping" ? e.mapping.id : e.direct.id));

describe("replaying configs.json.journal at start", () => {
  test("records apply in order; a last record cut off by a crash is skipped; then configs.json holds it all and the journal is gone", async () => {
    using dir = tempDir();
    writeFileSync(dir.file("configs.json"), snapshot(1, 2));
    writeFileSync(dir.file("configs.json.journal"), put(3) + remove(1) + put(4).slice(0, 40));
    expect(ids(loadState(dir.file("configs.json")))).toEqual(["id-2", "id-3"]);
    expect(ids(await restoreState(dir.file("configs.json")))).toEqual(["id-2", "id-3"]);
    expect(readFileSync(dir.file("configs.json"), "utf8")).toBe(snapshot(2, 3));
    expect(readdirSync(dir.path)).toEqual(["configs.json"]);
  });

  test("a journal already folded into configs.json (a crash before it was removed) changes nothing when replayed", async () => {
    using dir = tempDir();
    writeFileSync(dir.file("configs.json"), snapshot(2, 3));
    // The same changes as above: an add already there, a remove of what is gone.
    writeFileSync(dir.file("configs.json.journal"), put(3) + remove(1) + put(2));
    expect(ids(await restoreState(dir.file("configs.json")))).toEqual(["id-2", "id-3"]);
    expect(readFileSync(dir.file("configs.json"), "utf8")).toBe(snapshot(2, 3));
  });

  test("a journal renamed aside by a compaction is replayed before the fresh one", async () => {
    using dir = tempDir();
    writeFileSync(dir.file("configs.json"), snapshot(1));
    writeFileSync(dir.file("configs.json.journal.old"), put(2) + put(3));
    writeFileSync(dir.file("configs.json.journal"), remove(2) + put(4));
    expect(ids(await restoreState(dir.file("configs.json")))).toEqual(["id-1", "id-3", "id-4"]);
    expect(readdirSync(dir.path)).toEqual(["configs.json"]);
  });

  test.each([
    ["a line that is not JSON", put(2) + "{oops\n" + put(3), "line 2 is not valid JSON"],
    ["a record of another shape", put(2) + '{"add":"id-3"}\n', "line 2 is not a journal record"],
    ["a record that breaks a mapping's field", '{"put":{"id":"x","port1":"many"}}\n', "line 1 is not a journal record"],
    ["a blank line between records", put(2) + "\n" + put(3), "line 2 is not valid JSON"],
  ])("%s: start refused naming the line, both files left as they were", async (_, journal, message) => {
    using dir = tempDir();
    writeFileSync(dir.file("configs.json"), snapshot(1));
    writeFileSync(dir.file("configs.json.journal"), journal);
    const error = await restoreState(dir.file("configs.json")).catch((e) => e);
    expect(error).toBeInstanceOf(ConnectorError);
    expect(error.code).toBe("state");
    expect(error.message).toContain(`Journal ${dir.file("configs.json.journal")} ${message}`);
    expect(readFileSync(dir.file("configs.json"), "utf8")).toBe(snapshot(1));
    expect(readFileSync(dir.file("configs.json.journal"), "utf8")).toBe(journal);
  });

  test("a replayed state giving one port to two mappings is refused", async () => {
    using dir = tempDir();
    writeFileSync(dir.file("configs.json"), snapshot(1));
    writeFileSync(dir.file("configs.json.journal"), put(2).replace('"port1":1004', '"port1":1002'));
    const error = await restoreState(dir.file("configs.json")).catch((e) => e);
    expect(error.message).toContain("gives port 1002 to both id-1 and id-2");
    expect(existsSync(dir.file("configs.json.journal"))).toBe(true);
  });
});

describe("appending to the journal", () => {
  test("concurrent changes share appends; each is in the journal once its promise resolves; configs.json is untouched", async () => {
    using dir = tempDir();
    const file = dir.file("configs.json");
    writeFileSync(file, snapshot());
    let appends = 0;
    const journal = createJournal(file, [], { onWrite: (ok) => ok && appends++ });
    await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        await journal.put(entry(i));
        expect(ids(loadState(file))).toContain(`id-${i}`);
      }),
    );
    expect(appends).toBeLessThan(200);
    expect(loadState(file)).toHaveLength(200);
    expect(readFileSync(file, "utf8")).toBe(snapshot());
    await journal.remove("id-0");
    expect(ids(loadState(file))).not.toContain("id-0");
  });

  test("past its size the journal is folded into configs.json while changes go on; nothing is lost", async () => {
    using dir = tempDir();
    const file = dir.file("configs.json");
    const journal = createJournal(file, [], { compactAt: 1 });
    const expected = new Set<string>();
    for (let round = 0; round < 20; round++) {
      await Promise.all(Array.from({ length: 5 }, (_, k) => journal.put(entry(round * 5 + k))));
      for (let k = 0; k < 5; k++) expected.add(`id-${round * 5 + k}`);
      await journal.remove(`id-${round * 5}`);
      expected.delete(`id-${round * 5}`);
      await journal.idle(); // a compaction may be renaming the journal this moment: read the files at rest
      expect(new Set(ids(loadState(file)))).toEqual(expected);
    }
    expect(loadSnapshot(file).length).toBeGreaterThan(0); // compactions ran
    await journal.close();
    expect(new Set(ids(loadSnapshot(file)))).toEqual(expected);
    expect(readdirSync(dir.path)).toEqual(["configs.json"]);
    expect((await journal.put(entry(999)).catch((e) => e)).code).toBe("storage");
  });

  test("an append that fails is refused with a storage error and leaves the state as it was", async () => {
    using dir = tempDir();
    const file = dir.file("configs.json");
    const journal = createJournal(file, [entry(1)]);
    mkdirSync(dir.file("configs.json.journal")); // the journal cannot be opened
    const error = await journal.put(entry(2)).catch((e) => e);
    expect(error).toBeInstanceOf(ConnectorError);
    expect(error.code).toBe("storage");
    expect(error.message).toContain(`The state file ${file} could not be written (EISDIR)`);
  });

  test("a clean stop folds the journal into configs.json in the Java Connector's format and removes it", async () => {
    using dir = tempDir();
    const file = dir.file("configs.json");
    writeFileSync(file, snapshot(1));
    const journal = createJournal(file, [entry(1)]);
    await journal.put(entry(2));
    await journal.remove("id-1");
    await journal.close();
    expect(readFileSync(file, "utf8")).toBe(snapshot(2));
    expect(readdirSync(dir.path)).toEqual(["configs.json"]);
  });
});
