// The quick record checks against the valibot schema they stand in for: whatever they accept, the schema accepts with
// the same output; records as this Connector writes them always pass; anything doubtful is left to the schema.
import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { quickJournalLine, quickRecord, quickStateFile } from "../../src/store/quick-records.ts";
import { JournalLine } from "../../src/store/journal.ts";
import { StateFile, StateRecord } from "../../src/store/schema.ts";
import { seededRandom, type Random } from "../support/random.ts";

const FIELDS = [
  "id", "port1", "port2", "maxconnectionsport1", "maxconnectionsport2", "passcodeport1", "passcodeport2",
  "heartbeatabsencethresholdport1", "heartbeatabsencethresholdport2", "unusedsince",
] as const;

/** A record as the Connector writes it: a mapping (public or private) or a direct rendezvous. */
function written(rng: Random): Record<string, unknown> {
  if (rng.int(5) === 0) {
    const direct: Record<string, unknown> = { id: crypto.randomUUID(), port1: 0, port2: 0, maxconnectionsport1: 0, maxconnectionsport2: 0, passcodeport1: crypto.randomUUID(), passcodeport2: "", heartbeatabsencethresholdport1: 0, heartbeatabsencethresholdport2: 0 };
    if (rng.int(2) === 0) direct.unusedsince = Date.now() - rng.int(1e6);
    return direct;
  }
  return {
    id: crypto.randomUUID(), port1: 1 + rng.int(65535), port2: 1 + rng.int(65535), maxconnectionsport1: rng.int(100), maxconnectionsport2: rng.int(2) * rng.int(100),
    passcodeport1: crypto.randomUUID(), passcodeport2: rng.int(2) === 0 ? "" : crypto.randomUUID(),
    heartbeatabsencethresholdport1: rng.int(300_000), heartbeatabsencethresholdport2: rng.int(300_000),
  };
}

/** Values that are wrong, doubtful or merely unusual for one field or another. */
const ODD: readonly unknown[] = [
  null, "", "0", " 42 ", "65536", "x", -1, -0, 0.5, 65535, 65536, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, 1e300,
  true, [], [1], {}, { id: "x" }, "😀",
];

function mutated(rng: Random): unknown {
  const record = written(rng);
  for (let n = 1 + rng.int(3); n > 0; n--) {
    const roll = rng.int(4);
    const field = rng.pick(FIELDS);
    if (roll === 0) delete record[field];
    else if (roll === 1) record[`extra${rng.int(3)}`] = rng.pick(ODD);
    else record[field] = rng.pick(ODD);
  }
  return rng.int(40) === 0 ? rng.pick(ODD) : record;
}

/** What the quick check gave must be what the schema gives; returns whether the quick check decided. */
function agrees<S extends v.GenericSchema>(schema: S, json: unknown, quick: (json: unknown) => unknown): boolean {
  const fast = quick(json);
  if (fast === undefined) return false;
  const slow = v.safeParse(schema, json);
  expect(slow.success).toBe(true);
  expect(fast as object).toEqual(slow.output as object);
  return true;
}

describe("quick record checks", () => {
  test("records as the Connector writes them pass, with the schema's output", () => {
    const rng = seededRandom(3);
    for (let i = 0; i < 2000; i++) expect(agrees(StateRecord, written(rng), quickRecord)).toBe(true);
    const file = { mappings: Array.from({ length: 500 }, () => written(rng)) };
    expect(agrees(StateFile, file, quickStateFile)).toBe(true);
  });

  test("whatever they accept the schema accepts the same way; the rest is left to the schema", () => {
    const rng = seededRandom(5);
    let decided = 0;
    let left = 0;
    for (let i = 0; i < 20_000; i++) {
      const json = mutated(rng);
      if (agrees(StateRecord, json, quickRecord)) decided++;
      else left++;
    }
    // Both ways are exercised: mutations that keep a record valid, and the many that do not.
    expect(decided).toBeGreaterThan(1000);
    expect(left).toBeGreaterThan(1000);
  });

  test("a state file with one doubtful record is left to the schema whole", () => {
    const rng = seededRandom(9);
    const mappings: unknown[] = Array.from({ length: 50 }, () => written(rng));
    mappings[31] = { ...(mappings[31] as object), port1: "1234" }; // as the Java Connector wrote numbers
    expect(quickStateFile({ mappings })).toBeUndefined();
    expect(v.safeParse(StateFile, { mappings }).success).toBe(true);
    for (const odd of [null, [], { mappings: {} }, { mappings: "x" }, {}]) expect(quickStateFile(odd)).toBeUndefined();
  });

  test("journal lines: a put or a remove alone; anything else is left to the schema", () => {
    const rng = seededRandom(13);
    for (let i = 0; i < 200; i++) expect(agrees(JournalLine, { put: written(rng) }, quickJournalLine)).toBe(true);
    expect(agrees(JournalLine, { remove: "id-1" }, quickJournalLine)).toBe(true);
    for (const odd of [{ remove: "" }, { remove: 1 }, { put: written(rng), remove: "id-1" }, { put: written(rng), extra: 1 }, { put: null }, {}, [], null]) {
      expect(quickJournalLine(odd)).toBeUndefined();
    }
    for (let i = 0; i < 5000; i++) agrees(JournalLine, rng.int(2) === 0 ? { put: mutated(rng) } : { remove: rng.pick(ODD) }, quickJournalLine);
  });
});
