// Each relay thread publishes its mappings' PortState numbers into shared memory, so that the control thread reads
// them (status, /metrics, retiring a closed mapping's totals) synchronously and without asking the thread anything.
import type { MappingState, PortState, RelayMapping } from "../relay/types.ts";

/** The PortState numbers a thread publishes, in slot order; `port` is the mapping's and never changes. */
const FIELDS = [
  "active", "pending", "authorized", "bound", "waiting", "paused", "bytesIn", "bytesOut", "rejectedPasscode", "rejectedTimeout",
  "rejectedLimit", "rejectedThrottled", "rejectedOverload", "heartbeatTimeouts", "rejectedTls", "staleBytes", "recordMismatches", "lastActivity",
] as const satisfies ReadonlyArray<Exclude<keyof PortState, "port">>;

/** Counters that only grow while a mapping lives: a thread started again after a crash continues them from the last published value. */
const CUMULATIVE: ReadonlySet<string> = new Set(["bytesIn", "bytesOut", "rejectedPasscode", "rejectedTimeout", "rejectedLimit", "rejectedThrottled", "rejectedOverload", "heartbeatTimeouts", "rejectedTls", "staleBytes", "recordMismatches"]);
/** How a crashed thread's last value of each field joins the new thread's: added, the later of the two, or not at all (a gauge). */
const CARRY = FIELDS.map((name) => (CUMULATIVE.has(name) ? "add" : name === "lastActivity" ? "max" : "none"));

const PER_PORT = FIELDS.length;
/** Float64 numbers of one mapping: two ports. */
export const SLOT_SIZE = 2 * PER_PORT;
/** Mappings per shared segment; a thread gets another segment when its mappings outgrow the ones it has. */
export const SEGMENT_SLOTS = 256;

export function newSegment(): Float64Array {
  return new Float64Array(new SharedArrayBuffer(SEGMENT_SLOTS * SLOT_SIZE * Float64Array.BYTES_PER_ELEMENT));
}

function at(segments: readonly Float64Array[], slot: number): [Float64Array, number] {
  const segment = segments[Math.floor(slot / SEGMENT_SLOTS)];
  if (segment === undefined) throw new RangeError(`No shared segment holds slot ${slot}.`);
  return [segment, (slot % SEGMENT_SLOTS) * SLOT_SIZE];
}

function writePort(into: Float64Array, offset: number, port: PortState): void {
  for (let i = 0; i < PER_PORT; i++) {
    const value = port[FIELDS[i]!];
    into[offset + i] = typeof value === "boolean" ? (value ? 1 : 0) : value;
  }
}

/** Relay thread side: the mapping's current numbers into its slot. */
export function publish(segments: readonly Float64Array[], slot: number, state: MappingState): void {
  const [segment, offset] = at(segments, slot);
  writePort(segment, offset, state.port1);
  writePort(segment, offset + PER_PORT, state.port2);
}

/** Zeroes a slot, so that the next mapping given it starts from nothing. */
export function clearSlot(segments: readonly Float64Array[], slot: number): void {
  const [segment, offset] = at(segments, slot);
  segment.fill(0, offset, offset + SLOT_SIZE);
}

/** A copy of a slot's numbers (what a crashed thread last published). */
export function copySlot(segments: readonly Float64Array[], slot: number): Float64Array {
  const [segment, offset] = at(segments, slot);
  return segment.slice(offset, offset + SLOT_SIZE);
}

function readPort(from: Float64Array, offset: number, port: number, carried: Float64Array | undefined, carriedOffset: number): PortState {
  const state = { port } as Record<string, number | boolean>;
  for (let i = 0; i < PER_PORT; i++) {
    const name = FIELDS[i]!;
    let value = from[offset + i]!;
    if (carried !== undefined) value = joined(CARRY[i]!, carried[carriedOffset + i]!, value);
    state[name] = name === "active" ? value === 1 : value;
  }
  return state as unknown as PortState;
}

/** Control thread side: the mapping's state as last published, plus what a crashed thread had counted before (`carried`). */
export function readState(segments: readonly Float64Array[], slot: number, mapping: RelayMapping, carried?: Float64Array): MappingState {
  const [segment, offset] = at(segments, slot);
  return {
    id: mapping.id,
    kind: mapping.kind,
    port1: readPort(segment, offset, mapping.port1, carried, 0),
    port2: readPort(segment, offset + PER_PORT, mapping.port2, carried, PER_PORT),
  };
}

/** Adds the cumulative counters of `more` to `into` (a mapping that crossed two crashes). */
export function carry(into: Float64Array | undefined, more: Float64Array): Float64Array {
  if (into === undefined) return more;
  for (let k = 0; k < SLOT_SIZE; k++) more[k] = joined(CARRY[k % PER_PORT]!, into[k]!, more[k]!);
  return more;
}

function joined(how: string, before: number, now: number): number {
  return how === "add" ? before + now : how === "max" ? Math.max(before, now) : now;
}
