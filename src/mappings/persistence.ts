// Where a change becomes durable: the journal alone, or the cluster first with the journal as the member's snapshot.
import type { Logger } from "../log.ts";
import type { Entry } from "../store/schema.ts";
import { entryId, type Journal } from "../store/journal.ts";
import type { SharedLedger } from "./shared-ledger.ts";

export interface Persistence {
  /** Resolves once `entry` (encoded as `encoded`) is committed; `update`: it exists and changes. */
  save(entry: Entry, encoded: string, update?: boolean): Promise<void>;
  remove(entry: Entry): Promise<void>;
  /** Records in the snapshot a change the cluster holds already (committed through another member). */
  follow(id: string, encoded: string | undefined): void;
}

export function createPersistence(journal: Journal, shared: SharedLedger | undefined, log: Logger): Persistence {
  /** The snapshot of a member follows the cluster: a write it misses is caught up by the next full read. */
  const snapshot = (written: Promise<void>) =>
    void written.catch((error: Error) => log.error(`${error.message} The cluster holds the change; this member's snapshot catches up when it next reads the cluster.`));
  return {
    async save(entry, encoded, update = false) {
      if (shared === undefined) return journal.put(entryId(entry), encoded);
      await shared.put(entry, update);
      snapshot(journal.put(entryId(entry), encoded));
    },
    async remove(entry) {
      if (shared === undefined) return journal.remove(entryId(entry));
      await shared.remove(entry);
      snapshot(journal.remove(entryId(entry)));
    },
    follow: (id, encoded) => snapshot(encoded === undefined ? journal.remove(id) : journal.put(id, encoded)),
  };
}
