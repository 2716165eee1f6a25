// Commits mapping and direct changes to etcd, each in one transaction that also claims or frees the mapping's ports.
import { ConnectorError } from "../errors.ts";
import type { SharedLedger } from "../mappings/shared-ledger.ts";
import { entryId } from "../store/journal.ts";
import type { EtcdClient, Operation } from "./etcd-client.ts";
import type { ClusterKeys } from "./keys.ts";
import { entryWrites } from "./shared-settings.ts";

export interface LedgerOptions {
  client: EtcdClient;
  keys: ClusterKeys;
  /** False while etcd cannot be reached: changes are refused at once rather than after a timeout. */
  reachable(): boolean;
  /** Told of a request that found etcd unreachable, so that the member reconnects. */
  onUnreachable(): void;
}

export function createLedger(options: LedgerOptions): SharedLedger {
  const { client, keys } = options;

  const check = () => {
    if (!options.reachable()) {
      throw new ConnectorError("unavailable", "The cluster store (etcd) cannot be reached or has no quorum, so mappings cannot be changed now; open mappings keep relaying. Try again shortly.");
    }
  };
  const send = async <T>(request: () => Promise<T>): Promise<T> => {
    check();
    try {
      return await request();
    } catch (error) {
      if (error instanceof ConnectorError && error.code === "unavailable") options.onUnreachable();
      throw error;
    }
  };

  return {
    check,
    async put(entry, update) {
      const id = entryId(entry);
      const key = keys.entry(id);
      const [record, ...claims] = entryWrites(keys, entry);
      if (entry.kind === "direct") {
        const done = await send(() => client.txn([update ? { key, present: true } : { key, absent: true }], [record!]));
        if (!done.succeeded) throw new ConnectorError(update ? "not_found" : "conflict", update ? `No direct connection has the id ${id}.` : `A record with the id ${id} exists already.`);
        return;
      }
      const { port1, port2 } = entry.mapping;
      const done = await send(() =>
        client.txn(
          [{ key, absent: true }, { key: keys.port(port1), absent: true }, { key: keys.port(port2), absent: true }],
          [record!, ...claims],
          [{ get: keys.port(port1) }, { get: keys.port(port2) }],
        ),
      );
      if (done.succeeded) return;
      const taken = done.got[0] !== undefined ? port1 : done.got[1] !== undefined ? port2 : undefined;
      if (taken === undefined) throw new ConnectorError("conflict", `A mapping with the id ${id} exists already.`);
      throw new ConnectorError("port_in_use", `Port ${taken} was taken by another member of the cluster at the same moment.`, { port: taken });
    },
    async remove(entry) {
      const key = keys.entry(entryId(entry));
      const ports: Operation[] = entry.kind === "mapping" ? [{ delete: keys.port(entry.mapping.port1) }, { delete: keys.port(entry.mapping.port2) }] : [];
      // Gone already (another member removed it at the same moment): the cluster is as asked.
      await send(() => client.txn([{ key, present: true }], [{ delete: key }, ...ports]));
    },
  };
}
