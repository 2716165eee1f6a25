// Where a change becomes durable: the journal alone, or the cluster first with the journal as the member's snapshot.
import type { Logger } from "../log.ts";
import type { Entry } from "../store/schema.ts";
import { entryId, type Journal } from "../store/journal.ts";
import type { SharedLedger } from "./shared-ledger.ts";

export interface Persistence {
  /** Resolves once `entry` is committed; `update`: it exists and changes. */
  save(entry: Entry, update?: boolean): Promise<void>;
  remove(entry: Entry): Promise<void>;
  /** Records in the snapshot a change the cluster holds already (committed through another member). */
  follow(id: string, entry: Entry | undefined): void;
}

export function createPersistence(journal: Journal, shared: SharedLedger | undefined, log: Logger): Persistence {
  /** The snapshot of a member follows the cluster: a write it misses is caught up by the next full read. */
  const snapshot = (written: Promise<void>) =>
    void written.catch((error: Error) => log.error(`${error.message} The cluster holds the change; this member's snapshot catches up when it next reads the cluster.`));
  return {
    async save(entry, update = false) {
      if (shared === undefined) return journal.put(entry);
      await shared.put(entry, update);
      snapshot(journal.put(entry));
    },
    async remove(entry) {
      if (shared === undefined) return journal.remove(entryId(entry));
      await shared.remove(entry);
      snapshot(journal.remove(entryId(entry)));
    },
    follow: (id, entry) => snapshot(entry === undefined ? journal.remove(id) : journal.put(entry)),
  };
}
