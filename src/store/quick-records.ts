// State records as this Connector writes them, checked in a few comparisons instead of through valibot: restoring
// 9,000 records takes a few milliseconds this way, against 30-40 ms through the schema at a cold start.
//
// Each check accepts only what the valibot schema accepts, and gives what it gives; anything else (the digit strings
// the Java Connector wrote, a wrong type, a missing field) is left to the schema, which then accepts or explains it.
import type { StateRecord } from "./schema.ts";

const PORT_MAX = 65535;

/** A JSON integer from 0 to max (the schema also takes digit strings; those are left to it). */
const whole = (x: unknown, max: number): x is number => typeof x === "number" && Number.isSafeInteger(x) && x >= 0 && x <= max;

/** A field that may be absent: its default when absent, the value when it passes `ok`, undefined otherwise. */
function optional<T>(value: unknown, fallback: T, ok: (x: unknown) => x is T): T | undefined {
  if (value === undefined) return fallback;
  return ok(value) ? value : undefined;
}

const count = (x: unknown): x is number => whole(x, Number.MAX_SAFE_INTEGER);
const port = (x: unknown): x is number => whole(x, PORT_MAX);
const text = (x: unknown): x is string => typeof x === "string";

/** StateRecord's output for `json`, or undefined when the schema has to decide. */
export function quickRecord(json: unknown): StateRecord | undefined {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return undefined;
  const r = json as Record<string, unknown>;
  const { id, port1, passcodeport1 } = r;
  if (typeof id !== "string" || id === "" || !port(port1) || typeof passcodeport1 !== "string" || passcodeport1 === "") return undefined;
  const port2 = optional(r.port2, 0, port);
  const maxconnectionsport1 = optional(r.maxconnectionsport1, 0, count);
  const maxconnectionsport2 = optional(r.maxconnectionsport2, 0, count);
  const passcodeport2 = optional(r.passcodeport2, "", text);
  const heartbeatabsencethresholdport1 = optional(r.heartbeatabsencethresholdport1, 0, count);
  const heartbeatabsencethresholdport2 = optional(r.heartbeatabsencethresholdport2, 0, count);
  if (
    port2 === undefined || maxconnectionsport1 === undefined || maxconnectionsport2 === undefined || passcodeport2 === undefined ||
    heartbeatabsencethresholdport1 === undefined || heartbeatabsencethresholdport2 === undefined
  ) return undefined;
  const record: StateRecord = {
    id, port1, port2, maxconnectionsport1, maxconnectionsport2, passcodeport1, passcodeport2, heartbeatabsencethresholdport1, heartbeatabsencethresholdport2,
  };
  if (r.unusedsince !== undefined) {
    if (!count(r.unusedsince)) return undefined;
    record.unusedsince = r.unusedsince;
  }
  return record;
}

/** StateFile's output for `json` when every record passes quickRecord; undefined otherwise. */
export function quickStateFile(json: unknown): { mappings: StateRecord[] } | undefined {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return undefined;
  const list = (json as { mappings?: unknown }).mappings;
  if (!Array.isArray(list)) return undefined;
  const mappings = new Array<StateRecord>(list.length);
  for (let i = 0; i < list.length; i++) {
    const record = quickRecord(list[i]);
    if (record === undefined) return undefined;
    mappings[i] = record;
  }
  return { mappings };
}

/** A journal line's output ({"put": record} or {"remove": id}, nothing else in it); undefined when the schema has to decide. */
export function quickJournalLine(json: unknown): { put: StateRecord } | { remove: string } | undefined {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return undefined;
  const keys = Object.keys(json);
  if (keys.length !== 1) return undefined;
  const { put, remove } = json as { put?: unknown; remove?: unknown };
  if (keys[0] === "put") {
    const record = quickRecord(put);
    return record === undefined ? undefined : { put: record };
  }
  return keys[0] === "remove" && typeof remove === "string" && remove !== "" ? { remove } : undefined;
}
