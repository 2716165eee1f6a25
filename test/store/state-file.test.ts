import { describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { ConnectorError } from "../../src/errors.ts";
import { fromRecord, toRecord, type Entry } from "../../src/store/schema.ts";
import { encodeEntry, loadSnapshot, writeState } from "../../src/store/state-file.ts";
import { tempDir } from "../support/temp-dir.ts";
import { thrown } from "../support/thrown.ts";

/** As the Java Connector 1.x wrote it: numbers as strings and numbers, a direct record with port1 0. */
const JAVA_FILE = `{"mappings":[
 {"id":"2ae8ff72-7c61-4d9b-9d2b-3f0a1c2b4d5e","port1":"32768","port2":32769,"maxconnectionsport1":"60","maxconnectionsport2":"60",
  "passcodeport1":"0b403b65-1111-4222-8333-944455556666","passcodeport2":"","heartbeatabsencethresholdport1":"200000","heartbeatabsencethresholdport2":0},
 {"id":"7d3c9e1a-0000-4000-8000-000000000001","port1":40001,"port2":40002,"maxconnectionsport1":1,"maxconnectionsport2":1,
  "passcodeport1":"aaaaaaaa-1111-4222-8333-944455556666","passcodeport2":"bbbbbbbb-1111-4222-8333-944455556666",
  "heartbeatabsencethresholdport1":200000,"heartbeatabsencethresholdport2":200000},
 {"id":"d1","port1":0,"port2":0,"maxconnectionsport1":0,"maxconnectionsport2":0,"passcodeport1":"passkey-1","passcodeport2":"",
  "heartbeatabsencethresholdport1":0,"heartbeatabsencethresholdport2":0}
]}`;

describe("loading configs.json", () => {
  test("a file written by the Java Connector loads: public, private and direct", () => {
    using dir = tempDir();
    writeFileSync(dir.file("configs.json"), JAVA_FILE);
    const entries = loadSnapshot(dir.file("configs.json"));
    expect(entries).toHaveLength(3);
    const [pub, priv, direct] = entries as [Entry, Entry, Entry];
    expect(pub).toEqual({
      kind: "mapping",
      mapping: {
        id: "2ae8ff72-7c61-4d9b-9d2b-3f0a1c2b4d5e", kind: "public", port1: 32768, port2: 32769,
        passcode1: "0b403b65-1111-4222-8333-944455556666", passcode2: "",
        maxConnections1: 60, maxConnections2: 60, heartbeatThreshold1: 200000, heartbeatThreshold2: 0,
      },
    });
    expect(priv.kind === "mapping" && priv.mapping.kind).toBe("private");
    expect(direct).toEqual({ kind: "direct", direct: { id: "d1", passkey: "passkey-1" } });
  });

  test("missing or blank file is the empty state", () => {
    using dir = tempDir();
    expect(loadSnapshot(dir.file("none.json"))).toEqual([]);
    writeFileSync(dir.file("blank.json"), "\n");
    expect(loadSnapshot(dir.file("blank.json"))).toEqual([]);
    writeFileSync(dir.file("empty.json"), '{"mappings":[]}');
    expect(loadSnapshot(dir.file("empty.json"))).toEqual([]);
  });

  const corrupt: Record<string, string> = {
    "truncated JSON": '{"mappings":[{"id":"a","port1":1',
    "no mapping list": '{"maps":[]}',
    "a port that is not a number": '{"mappings":[{"id":"a","port1":"x","port2":2,"passcodeport1":"p"}]}',
    "a negative number": '{"mappings":[{"id":"a","port1":1,"port2":2,"passcodeport1":"p","maxconnectionsport1":-1}]}',
    "a fractional number": '{"mappings":[{"id":"a","port1":1,"port2":2,"passcodeport1":"p","maxconnectionsport1":1.5}]}',
    "a duplicated id": '{"mappings":[{"id":"a","port1":1,"port2":2,"passcodeport1":"p"},{"id":"a","port1":3,"port2":4,"passcodeport1":"q"}]}',
    "a port shared by two mappings": '{"mappings":[{"id":"a","port1":1,"port2":2,"passcodeport1":"p"},{"id":"b","port1":2,"port2":4,"passcodeport1":"q"}]}',
    "no passcode": '{"mappings":[{"id":"a","port1":1,"port2":2}]}',
  };
  for (const [what, text] of Object.entries(corrupt)) {
    test(`a corrupt file (${what}) is refused and left as it is`, () => {
      using dir = tempDir();
      const file = dir.file("configs.json");
      writeFileSync(file, text);
      const error = thrown(() => loadSnapshot(file));
      expect(error).toBeInstanceOf(ConnectorError);
      expect((error as ConnectorError).code).toBe("state");
      expect((error as ConnectorError).message).toContain(file);
      expect((error as ConnectorError).message).toContain("left as it is");
      expect(readFileSync(file, "utf8")).toBe(text);
    });
  }

  test("a malformed record is named with the field, the rule and what was given", () => {
    using dir = tempDir();
    const file = dir.file("configs.json");
    const cases: [string, string][] = [
      ['{"maps":[]}', "mappings is missing; it must be an array of mapping records"],
      ['{"mappings":[{"id":"a","port1":"x","port2":2,"passcodeport1":"p"}]}', 'mappings[0].port1 must be a port number from 0 to 65535 (got "x")'],
      ['{"mappings":[{"id":"a","port1":1,"port2":2,"passcodeport1":"p","maxconnectionsport1":1.5}]}', "mappings[0].maxconnectionsport1 must be a whole number (got 1.5)"],
      ['{"mappings":[{"id":"a","port1":1,"port2":2}]}', "mappings[0].passcodeport1 is missing; it must be a passcode as text"],
      ['{"mappings":[7]}', "mappings[0] must be a mapping record, a JSON object (got 7)"],
    ];
    for (const [text, why] of cases) {
      writeFileSync(file, text);
      expect(thrown(() => loadSnapshot(file))).toHaveProperty(
        "message",
        `State file ${file} is not a mapping list: ${why}; it was left as it is: repair or move it aside, then start again.`,
      );
    }
  });

  test("an unreadable file is refused", () => {
    if (process.getuid?.() === 0) return; // root reads any file; permissions cannot be tested here
    using dir = tempDir();
    writeFileSync(dir.file("configs.json"), "{}");
    chmodSync(dir.file("configs.json"), 0);
    expect(() => loadSnapshot(dir.file("configs.json"))).toThrow("cannot be read");
  });
});

describe("writing configs.json", () => {
  const entry = (i: number): Entry => fromRecord({
    id: `id-${i}`, port1: 1000 + 2 * i, port2: 1001 + 2 * i, maxconnectionsport1: 60, maxconnectionsport2: 0,
    passcodeport1: `pass-${i}`, passcodeport2: "", heartbeatabsencethresholdport1: 200000, heartbeatabsencethresholdport2: 0,
  });

  test("round trip: what is written loads back the same, with maxconnectionsport2 as given", async () => {
    using dir = tempDir();
    const entries = [entry(1), entry(2)];
    if (entries[1]!.kind === "mapping") entries[1]!.mapping.maxConnections2 = 7;
    await writeState(dir.file("configs.json"), entries.map(encodeEntry));
    expect(loadSnapshot(dir.file("configs.json"))).toEqual(entries);
    const json = JSON.parse(readFileSync(dir.file("configs.json"), "utf8"));
    expect(json.mappings[1]).toEqual(toRecord(entries[1]!));
    expect(json.mappings[1].maxconnectionsport2).toBe(7);
    expect(readdirSync(dir.path)).toEqual(["configs.json"]);
  });

  test("a write into a missing directory fails with a storage error and leaves no temporary file", async () => {
    using dir = tempDir();
    const error = await writeState(dir.file("gone/configs.json"), [encodeEntry(entry(1))]).catch((e) => e);
    expect(error).toBeInstanceOf(ConnectorError);
    expect(error.code).toBe("storage");
    expect(error.message).toContain("could not be written");
    expect(readdirSync(dir.path)).toEqual([]);
  });

  test("the old file stays whole when a write fails", async () => {
    using dir = tempDir();
    const file = dir.file("configs.json");
    writeFileSync(file, JAVA_FILE);
    mkdirSync(dir.file(".configs.json.tmp")); // the temporary file cannot be made
    expect((await writeState(file, []).catch((e) => e)).code).toBe("storage");
    expect(readFileSync(file, "utf8")).toBe(JAVA_FILE);
    rmdirSync(dir.file(".configs.json.tmp"));
    await writeState(file, []);
    expect(loadSnapshot(file)).toEqual([]);
  });
});
