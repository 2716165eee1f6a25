// Brings a member's mappings in line with what etcd holds: a full read at each (re)connection, then watch events one by one.
import type { Logger } from "../log.ts";
import type { MappingService } from "../mappings/service.ts";
import type { Entry } from "../store/schema.ts";
import { entryId } from "../store/journal.ts";
import type { KeyValue, WatchEvent } from "./etcd-client.ts";
import { parseEntry, type ClusterKeys } from "./keys.ts";

export interface Applier {
  /** Replaces the member's view with a full read: entries etcd lacks are closed, the others opened. */
  full(kvs: KeyValue[]): Promise<void>;
  /** Applies watch events in order. */
  events(events: WatchEvent[]): Promise<void>;
  /** Members that hold a lease key, as last seen. */
  readonly members: ReadonlySet<string>;
}

export function createApplier(service: MappingService, keys: ClusterKeys, log: Logger): Applier {
  const members = new Set<string>();

  const read = (key: string, value: string): Entry | undefined => {
    try {
      return parseEntry(key, value);
    } catch (error) {
      log.error(`${(error as Error).message} It is left out until it is corrected.`);
      return undefined;
    }
  };

  return {
    members,
    async full(kvs) {
      const wanted = new Map<string, Entry>();
      members.clear();
      for (const { key, value } of kvs) {
        const what = keys.parse(key);
        if (what.kind === "member") members.add(what.name);
        if (what.kind !== "entry") continue;
        const entry = read(key, value);
        if (entry !== undefined) wanted.set(entryId(entry), entry);
      }
      // Closing first frees the ports that entries etcd holds may reuse.
      for (const entry of service.entries()) if (!wanted.has(entryId(entry))) service.forget(entryId(entry));
      await Promise.all(Array.from(wanted.values(), (entry) => service.adopt(entry)));
    },
    async events(events) {
      for (const { type, key, value } of events) {
        const what = keys.parse(key);
        if (what.kind === "member") {
          if (type === "put") members.add(what.name);
          else members.delete(what.name);
        }
        if (what.kind !== "entry") continue;
        if (type === "delete") {
          service.forget(what.name);
          continue;
        }
        const entry = read(key, value);
        if (entry !== undefined) await service.adopt(entry);
      }
    },
  };
}
