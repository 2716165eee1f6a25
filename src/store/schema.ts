// The state file's records, as the Java Connector wrote them and as we write them: one field list, one place.
import * as v from "valibot";
import { describeIssue, record } from "../config/issues.ts";
import type { RelayMapping } from "../relay/types.ts";

/**
 * A count or a duration from 0 to `max`: a JSON integer, or a string of decimal digits (the Java
 * Connector wrote both). Every issue states `rule`.
 */
export function wholeNumber(max: number, rule = `a whole number from 0 to ${max}`) {
  return v.pipe(
    v.union([
      v.pipe(v.number(rule), v.safeInteger(rule)),
      v.pipe(v.string(rule), v.regex(/^\s*\d{1,15}\s*$/, rule), v.transform(Number)),
    ], rule),
    v.minValue(0, rule),
    v.maxValue(max, rule),
  );
}

const Count = wholeNumber(Number.MAX_SAFE_INTEGER, "a whole number");
const PortNumber = wholeNumber(65535, "a port number from 0 to 65535");
const Secret = v.pipe(v.string("a passcode as text"), v.nonEmpty("a passcode as text"));

export const StateRecord = record({
  id: v.pipe(v.string("an id as text"), v.nonEmpty("an id as text")),
  port1: PortNumber,
  port2: v.optional(PortNumber, 0),
  maxconnectionsport1: v.optional(Count, 0),
  maxconnectionsport2: v.optional(Count, 0),
  passcodeport1: Secret,
  passcodeport2: v.optional(v.string("a passcode as text, or empty"), ""),
  heartbeatabsencethresholdport1: v.optional(Count, 0),
  heartbeatabsencethresholdport2: v.optional(Count, 0),
  /** Direct records only: when it was added, while no agent has called its rendezvous yet (ms since the epoch). */
  unusedsince: v.optional(Count),
}, "a mapping record, a JSON object");
export type StateRecord = v.InferOutput<typeof StateRecord>;

export const StateFile = record({ mappings: v.array(StateRecord, "an array of mapping records") }, 'a JSON object {"mappings":[...]}');

/** A rendezvous record (PROTOCOL 4): stored with port1 0 and the passkey as passcodeport1. */
export interface DirectRecord {
  id: string;
  passkey: string;
  /** Set from its creation until an agent first calls its rendezvous; undefined once used (or unknown: 1.x files). */
  unusedSince?: number;
}

export type Entry = { kind: "mapping"; mapping: RelayMapping } | { kind: "direct"; direct: DirectRecord };

export function fromRecord(record: StateRecord): Entry {
  if (record.port1 === 0) {
    const direct: DirectRecord = { id: record.id, passkey: record.passcodeport1 };
    if (record.unusedsince !== undefined) direct.unusedSince = record.unusedsince;
    return { kind: "direct", direct };
  }
  return {
    kind: "mapping",
    mapping: {
      id: record.id,
      kind: record.passcodeport2 === "" ? "public" : "private",
      port1: record.port1,
      port2: record.port2,
      passcode1: record.passcodeport1,
      passcode2: record.passcodeport2,
      maxConnections1: record.maxconnectionsport1,
      maxConnections2: record.maxconnectionsport2,
      heartbeatThreshold1: record.heartbeatabsencethresholdport1,
      heartbeatThreshold2: record.heartbeatabsencethresholdport2,
    },
  };
}

export function toRecord(entry: Entry): StateRecord {
  if (entry.kind === "direct") {
    const { id, passkey, unusedSince } = entry.direct;
    return {
      id, port1: 0, port2: 0, maxconnectionsport1: 0, maxconnectionsport2: 0,
      passcodeport1: passkey, passcodeport2: "", heartbeatabsencethresholdport1: 0, heartbeatabsencethresholdport2: 0,
      ...(unusedSince === undefined ? {} : { unusedsince: unusedSince }),
    };
  }
  const m = entry.mapping;
  return {
    id: m.id,
    port1: m.port1,
    port2: m.port2,
    maxconnectionsport1: m.maxConnections1,
    maxconnectionsport2: m.maxConnections2,
    passcodeport1: m.passcode1,
    passcodeport2: m.passcode2,
    heartbeatabsencethresholdport1: m.heartbeatThreshold1,
    heartbeatabsencethresholdport2: m.heartbeatThreshold2,
  };
}

/**
 * Parses stored JSON text (the state file, a journal line) against `schema`; what is wrong becomes
 * `refuse("is not valid JSON (...)")` or `refuse("is not <what>: <the issue>")`, with `root` naming the text.
 */
export function parseStored<S extends v.GenericSchema>(
  schema: S,
  text: string,
  what: string,
  root: string,
  refuse: (why: string) => Error,
  /** The schema's output for JSON as this Connector writes it, found without the schema; undefined leaves it to the schema (quick-records.ts). */
  quick?: (json: unknown) => v.InferOutput<S> | undefined,
): v.InferOutput<S> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw refuse(`is not valid JSON (${(error as Error).message})`);
  }
  const fast = quick?.(json);
  if (fast !== undefined) return fast;
  const parsed = v.safeParse(schema, json);
  if (!parsed.success) throw refuse(`is not ${what}: ${describeIssue(parsed.issues[0], root)}`);
  return parsed.output;
}
