// Where a cluster keeps what in etcd, under its prefix: settings, mappings (as configs.json records), port claims, members.
import { parseStored, fromRecord, StateRecord, type Entry } from "../store/schema.ts";
import { encodeEntry } from "../store/state-file.ts";
import { entryId } from "../store/journal.ts";
import { ConnectorError } from "../errors.ts";

export interface ClusterKeys {
  prefix: string;
  /** The `ports`, `exclude` and `dev` every member must share. */
  settings: string;
  /** A mapping or direct record, in the format of a configs.json record. */
  entry(id: string): string;
  /** Held by a mapping's id while it uses the port: the key two members cannot both create. */
  port(port: number): string;
  /** Held by a member's lease while it is alive. */
  member(name: string): string;
  /** What a key under the prefix is. */
  parse(key: string): { kind: "entry" | "member"; name: string } | { kind: "port" | "settings" | "other" };
}

export function clusterKeys(prefix: string): ClusterKeys {
  const entries = `${prefix}mappings/`;
  const ports = `${prefix}ports/`;
  const members = `${prefix}members/`;
  return {
    prefix,
    settings: `${prefix}settings`,
    entry: (id) => `${entries}${id}`,
    port: (port) => `${ports}${port}`,
    member: (name) => `${members}${name}`,
    parse(key) {
      if (key === `${prefix}settings`) return { kind: "settings" };
      if (key.startsWith(entries)) return { kind: "entry", name: key.slice(entries.length) };
      if (key.startsWith(members)) return { kind: "member", name: key.slice(members.length) };
      if (key.startsWith(ports)) return { kind: "port" };
      return { kind: "other" };
    },
  };
}

/** The value of an entry's key: the same JSON record configs.json holds. */
export const entryValue = (entry: Entry): string => encodeEntry(entry);

/** Reads an entry's value back; a record that is not one is refused with the key named. */
export function parseEntry(key: string, value: string): Entry {
  const entry = fromRecord(parseStored(StateRecord, value, "a mapping record", "the record", (why) => new ConnectorError("state", `The cluster key ${key} ${why}.`)));
  if (!key.endsWith(`/${entryId(entry)}`)) throw new ConnectorError("state", `The cluster key ${key} holds the record of ${entryId(entry)}.`);
  return entry;
}
