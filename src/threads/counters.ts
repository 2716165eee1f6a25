// Each relay thread publishes its mappings' PortState numbers into shared memory, so that the control thread reads
// them (status, /metrics, retiring a closed mapping's totals) synchronously and without asking the thread anything.
import type { MappingState, PortReading, PortState, RelayMapping } from "../relay/types.ts";

/** The PortState numbers a thread publishes, in slot order; `port` is the mapping's and never changes. */
export const FIELDS = [
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

// Written out field by field: this runs for every mapping of a thread on each publication, and indexing the
// objects by name from FIELDS would cost about twice as long. The order is FIELDS' (a test checks both agree).
function writePort(into: Float64Array, o: number, p: PortReading): void {
  into[o] = p.active ? 1 : 0;
  into[o + 1] = p.pending;
  into[o + 2] = p.authorized;
  into[o + 3] = p.bound;
  into[o + 4] = p.waiting;
  into[o + 5] = p.paused;
  into[o + 6] = p.bytesIn;
  into[o + 7] = p.bytesOut;
  into[o + 8] = p.rejectedPasscode;
  into[o + 9] = p.rejectedTimeout;
  into[o + 10] = p.rejectedLimit;
  into[o + 11] = p.rejectedThrottled;
  into[o + 12] = p.rejectedOverload;
  into[o + 13] = p.heartbeatTimeouts;
  into[o + 14] = p.rejectedTls;
  into[o + 15] = p.staleBytes;
  into[o + 16] = p.recordMismatches;
  into[o + 17] = p.lastActivity;
}

function readPort(f: Float64Array, o: number, port: number): PortState {
  return {
    port,
    active: f[o] === 1,
    pending: f[o + 1]!,
    authorized: f[o + 2]!,
    bound: f[o + 3]!,
    waiting: f[o + 4]!,
    paused: f[o + 5]!,
    bytesIn: f[o + 6]!,
    bytesOut: f[o + 7]!,
    rejectedPasscode: f[o + 8]!,
    rejectedTimeout: f[o + 9]!,
    rejectedLimit: f[o + 10]!,
    rejectedThrottled: f[o + 11]!,
    rejectedOverload: f[o + 12]!,
    heartbeatTimeouts: f[o + 13]!,
    rejectedTls: f[o + 14]!,
    staleBytes: f[o + 15]!,
    recordMismatches: f[o + 16]!,
    lastActivity: f[o + 17]!,
  };
}

/** Relay thread side: the mapping's current numbers into its slot. */
export function publish(segments: readonly Float64Array[], slot: number, state: { readonly port1: PortReading; readonly port2: PortReading }): void {
  const segment = segments[Math.floor(slot / SEGMENT_SLOTS)];
  if (segment === undefined) throw new RangeError(`No shared segment holds slot ${slot}.`);
  const offset = (slot % SEGMENT_SLOTS) * SLOT_SIZE;
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

/** Control thread side: the mapping's state as last published, plus what a crashed thread had counted before (`carried`). */
export function readState(segments: readonly Float64Array[], slot: number, mapping: RelayMapping, carried?: Float64Array): MappingState {
  let [segment, offset] = at(segments, slot);
  if (carried !== undefined) {
    segment = carry(carried, segment.slice(offset, offset + SLOT_SIZE));
    offset = 0;
  }
  return { id: mapping.id, kind: mapping.kind, port1: readPort(segment, offset, mapping.port1), port2: readPort(segment, offset + PER_PORT, mapping.port2) };
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

/** What a mapping counted after `seen` was read, up to `final`: the cumulative counters' differences, gauges 0. */
export function countedSince(seen: MappingState, final: MappingState): MappingState {
  const since = (before: PortState, after: PortState): PortState => {
    const out = { ...after };
    for (let i = 0; i < PER_PORT; i++) {
      const name = FIELDS[i]!;
      (out as Record<string, number | boolean>)[name] = CARRY[i] === "add" ? (after[name] as number) - (before[name] as number) : name === "active" ? false : 0;
    }
    return out;
  };
  return { ...final, port1: since(seen.port1, final.port1), port2: since(seen.port2, final.port2) };
}
