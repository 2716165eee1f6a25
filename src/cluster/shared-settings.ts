// The settings every member of a prefix must share, checked at first contact; the first member also brings its mappings.
import { formatRange, type PortRange } from "../config/ranges.ts";
import { ConnectorError } from "../errors.ts";
import type { Entry } from "../store/schema.ts";
import { entryId } from "../store/journal.ts";
import type { EtcdClient, Operation } from "./etcd-client.ts";
import { entryValue, type ClusterKeys } from "./keys.ts";

export interface SharedSettings {
  ports: string[];
  exclude: string[];
  dev: boolean;
}

export const sharedSettings = (settings: { ports: PortRange[]; exclude: PortRange[]; dev: boolean }): SharedSettings => ({
  ports: settings.ports.map(formatRange),
  exclude: settings.exclude.map(formatRange),
  dev: settings.dev,
});

/** etcd takes at most 128 operations in one transaction by default; a mapping takes three. */
const ENTRIES_PER_TXN = 40;

/**
 * Claims an empty prefix for these settings and imports `local` (the member's configs.json, ports and
 * passcodes kept), or checks that the prefix holds the same settings. A difference is a ConnectorError("config")
 * that names the field. Resolves true when this member imported its mappings.
 */
export async function joinPrefix(client: EtcdClient, keys: ClusterKeys, mine: SharedSettings, file: string, local: Entry[]): Promise<boolean> {
  let text = (await client.range(keys.settings)).kvs.find((kv) => kv.key === keys.settings)?.value;
  let imported = false;
  if (text === undefined) {
    // The settings key is written last, once every record is in: an import cut off (the member killed between two
    // transactions) leaves the prefix unclaimed, and the next start imports again (the same records, the same keys).
    // A member that claims the prefix meanwhile does not stop it: these records are acknowledged mappings too.
    const writes = (entry: Entry) => entryWrites(keys, entry);
    for (let i = 0; i < local.length; i += ENTRIES_PER_TXN) await client.txn([], local.slice(i, i + ENTRIES_PER_TXN).flatMap(writes));
    imported = local.length > 0;
    const claim = await client.txn([{ key: keys.settings, absent: true }], [{ put: keys.settings, value: JSON.stringify(mine) }], [{ get: keys.settings }]);
    if (claim.succeeded) return imported;
    text = claim.got[0];
  }
  let held: SharedSettings;
  try {
    held = JSON.parse(text ?? "") as SharedSettings;
  } catch {
    throw new ConnectorError("config", `The cluster key ${keys.settings} does not hold settings as JSON; remove it or use another "prefix" in ${file}.`);
  }
  for (const field of ["ports", "exclude", "dev"] as const) {
    if (JSON.stringify(held[field]) !== JSON.stringify(mine[field])) {
      throw new ConnectorError(
        "config",
        `Settings file ${file}: "${field}" is ${JSON.stringify(mine[field])} but the cluster at ${keys.prefix} has ${JSON.stringify(held[field])}; every member needs the same "ports", "exclude" and "dev".`,
      );
    }
  }
  return imported;
}

/** The operations that store `entry` under the prefix and claim its ports. */
export function entryWrites(keys: ClusterKeys, entry: Entry): Operation[] {
  const id = entryId(entry);
  const record: Operation = { put: keys.entry(id), value: entryValue(entry) };
  if (entry.kind === "direct") return [record];
  return [record, { put: keys.port(entry.mapping.port1), value: id }, { put: keys.port(entry.mapping.port2), value: id }];
}
