// Cluster mode, loaded only when the settings have a `cluster` block: etcd as the source of truth for mappings.
import type { Clock } from "../clock.ts";
import type { ClusterSettings, Settings } from "../config/load.ts";
import { ConnectorError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { MappingService } from "../mappings/service.ts";
import type { SharedLedger } from "../mappings/shared-ledger.ts";
import { readRegular, whyUnusable } from "../regular-file.ts";
import { createApplier } from "./apply.ts";
import { createEtcdClient, type EtcdTls } from "./etcd-client.ts";
import { clusterKeys } from "./keys.ts";
import { createLedger } from "./ledger.ts";
import { createReplica, type ClusterView, type Replica } from "./replica.ts";
import { joinPrefix, sharedSettings } from "./shared-settings.ts";

export type { ClusterView } from "./replica.ts";

export interface Cluster {
  /** Hands the mapping service the cluster as the place changes are committed. */
  readonly ledger: SharedLedger;
  /**
   * Starts following etcd into `service`; resolves once the first full read is applied, or after `waitMs`
   * when etcd cannot be reached (the member then serves its snapshot). Rejects when the settings differ from the prefix's.
   */
  follow(service: MappingService, waitMs?: number): Promise<void>;
  view(): ClusterView;
  close(): Promise<void>;
}

export interface ClusterOptions {
  settings: Settings & { cluster: ClusterSettings };
  log: Logger;
  clock: Clock;
  /** Lease of the member key, seconds (how long a killed member still counts as alive). */
  leaseTtlSeconds?: number;
}

export function openCluster(options: ClusterOptions): Cluster {
  const { settings, log, clock } = options;
  const { cluster } = settings;
  const client = createEtcdClient({ endpoints: cluster.etcd, tls: readTls(cluster, settings.file) });
  const keys = clusterKeys(cluster.prefix);
  let replica: Replica | undefined;
  const ledger = createLedger({ client, keys, reachable: () => replica?.reachable ?? false, onUnreachable: () => replica?.lost() });
  const mine = sharedSettings(settings);

  return {
    ledger,
    async follow(service, waitMs = 3000) {
      let joined = false;
      replica = createReplica({
        client, keys, service, member: cluster.member, clock, log, leaseTtlSeconds: options.leaseTtlSeconds,
        applier: createApplier(service, keys, log),
        async join() {
          if (joined) return;
          const local = service.entries();
          if (await joinPrefix(client, keys, mine, settings.file, local)) {
            log.info(`Cluster: the prefix ${keys.prefix} was empty; imported the ${local.length} records of ${settings.stateFile}.`);
          }
          joined = true;
        },
      });
      try {
        if (!(await replica.connected(waitMs))) {
          log.warn(`Cluster: etcd (${cluster.etcd.join(", ")}) cannot be reached; serving the ${service.count} mappings of ${settings.stateFile} until it can.`);
        }
      } catch (error) {
        await replica.close();
        throw error;
      }
    },
    view: () => replica?.view() ?? { member: cluster.member, members: [], etcdReachable: false, revision: 0 },
    close: async () => replica?.close(),
  };
}

function readTls(cluster: ClusterSettings, file: string): EtcdTls | undefined {
  if (cluster.caFile === undefined && cluster.certFile === undefined) return undefined;
  const read = (path: string | undefined, field: string) => {
    if (path === undefined) return undefined;
    try {
      return readRegular(path);
    } catch (error) {
      throw new ConnectorError("config", `Settings file ${file}: cluster.${field} ${path} ${whyUnusable(error)}.`);
    }
  };
  return { ca: read(cluster.caFile, "caFile"), cert: read(cluster.certFile, "certFile"), key: read(cluster.keyFile, "keyFile") };
}
