// The state file's records, as the Java Connector wrote them and as we write them: one field list, one place.
import * as v from "valibot";
import type { RelayMapping } from "../relay/types.ts";

/** A count or a duration: a JSON integer, or a string of decimal digits (the Java Connector wrote both). */
export const WholeNumber = v.pipe(
  v.union([
    v.pipe(v.number(), v.safeInteger()),
    v.pipe(v.string(), v.regex(/^\s*\d{1,15}\s*$/), v.transform(Number)),
  ], "must be a whole number"),
  v.minValue(0, "must not be negative"),
);

const Text = v.optional(v.pipe(v.string("must be a string")), "");
const PortNumber = v.pipe(WholeNumber, v.maxValue(65535, "must be a port number"));

export const StateRecord = v.object({
  id: v.pipe(v.string("must be a string"), v.nonEmpty("must not be empty")),
  port1: PortNumber,
  port2: v.optional(PortNumber, 0),
  maxconnectionsport1: v.optional(WholeNumber, 0),
  maxconnectionsport2: v.optional(WholeNumber, 0),
  passcodeport1: v.pipe(v.string("must be a string"), v.nonEmpty("must not be empty")),
  passcodeport2: Text,
  heartbeatabsencethresholdport1: v.optional(WholeNumber, 0),
  heartbeatabsencethresholdport2: v.optional(WholeNumber, 0),
});
export type StateRecord = v.InferOutput<typeof StateRecord>;

export const StateFile = v.object({ mappings: v.array(StateRecord, "must be an array") });

/** A rendezvous record (PROTOCOL 4): stored with port1 0 and the passkey as passcodeport1. */
export interface DirectRecord {
  id: string;
  passkey: string;
}

export type Entry = { kind: "mapping"; mapping: RelayMapping } | { kind: "direct"; direct: DirectRecord };

export function fromRecord(record: StateRecord): Entry {
  if (record.port1 === 0) return { kind: "direct", direct: { id: record.id, passkey: record.passcodeport1 } };
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
    const { id, passkey } = entry.direct;
    return {
      id, port1: 0, port2: 0, maxconnectionsport1: 0, maxconnectionsport2: 0,
      passcodeport1: passkey, passcodeport2: "", heartbeatabsencethresholdport1: 0, heartbeatabsencethresholdport2: 0,
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
