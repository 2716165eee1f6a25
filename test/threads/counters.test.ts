// The shared slots: every PortState field crosses unchanged, and a crashed thread's counts carry into the next one's.
import { expect, test } from "bun:test";
import type { MappingState, PortState, RelayMapping } from "../../src/relay/types.ts";
import { carry, clearSlot, copySlot, FIELDS, newSegment, publish, readState, SEGMENT_SLOTS } from "../../src/threads/counters.ts";
import { describeMapping } from "../support/relay-harness.ts";

/** A port whose every number differs from the others', so that a field read from the wrong place shows. */
function distinct(port: number, base: number): PortState {
  const state = { port } as Record<string, number | boolean>;
  FIELDS.forEach((name, i) => (state[name] = name === "active" ? true : base + i));
  return state as unknown as PortState;
}

const stateOf = (mapping: RelayMapping, base: number): MappingState => ({
  id: mapping.id, kind: mapping.kind, port1: distinct(mapping.port1, base), port2: distinct(mapping.port2, base + 100),
});

test("every PortState field is published and read back as it was, in any segment", () => {
  const segments = [newSegment(), newSegment()];
  const mapping = describeMapping("public");
  for (const slot of [0, SEGMENT_SLOTS - 1, SEGMENT_SLOTS + 3]) {
    const state = stateOf(mapping, slot * 1000);
    publish(segments, slot, state);
    expect(readState(segments, slot, mapping)).toEqual(state);
    expect(Object.keys(readState(segments, slot, mapping).port1).sort()).toEqual(["port", ...FIELDS].sort());
  }
  clearSlot(segments, 3 + SEGMENT_SLOTS);
  expect(readState(segments, 3 + SEGMENT_SLOTS, mapping).port2.bytesIn).toBe(0);
  expect(() => publish(segments, 2 * SEGMENT_SLOTS, stateOf(mapping, 0))).toThrow(RangeError);
});

test("after a crash, counters continue from what the dead thread published; gauges start afresh", () => {
  const mapping = describeMapping("public");
  const dead = [newSegment()];
  publish(dead, 5, stateOf(mapping, 10));
  const carried = carry(undefined, copySlot(dead, 5));
  const fresh = [newSegment()];
  publish(fresh, 0, { ...stateOf(mapping, 1), port1: { ...distinct(mapping.port1, 1), lastActivity: 1 } });
  const joined = readState(fresh, 0, mapping, carried);
  expect(joined.port1.bytesIn).toBe(10 + 6 + 1 + 6); // bytesIn is FIELDS[6]
  expect(joined.port1.heartbeatTimeouts).toBe(10 + 13 + 1 + 13);
  expect(joined.port1.authorized).toBe(1 + 2); // a gauge: only the live thread's
  expect(joined.port1.lastActivity).toBe(10 + 17); // the later of the two
  const twice = carry(carried, copySlot(fresh, 0));
  expect(readState([new Float64Array(twice.length * SEGMENT_SLOTS)], 0, mapping, twice).port1.bytesIn).toBe(joined.port1.bytesIn);
});
