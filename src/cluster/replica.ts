// A member's link to etcd: lease key, full read, then the watch from that revision; on any loss, start over.
import type { Clock } from "../clock.ts";
import { isConnectorError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { MappingService } from "../mappings/service.ts";
import type { Applier } from "./apply.ts";
import type { EtcdClient } from "./etcd-client.ts";
import type { ClusterKeys } from "./keys.ts";

/** What `status` and /metrics show of the cluster, as this member sees it. */
export interface ClusterView {
  member: string;
  /** Members holding a lease key, this one included while it reaches etcd. */
  members: string[];
  etcdReachable: boolean;
  /** The etcd revision this member's mappings reflect; 0 before the first read. */
  revision: number;
}

export interface ReplicaOptions {
  client: EtcdClient;
  keys: ClusterKeys;
  applier: Applier;
  service: MappingService;
  member: string;
  clock: Clock;
  log: Logger;
  /** Runs first at each connection, before the full read (the settings check and the first import). */
  join(): Promise<void>;
  /** Lease of the member key, seconds: how long a dead member still counts as alive. Default 5. */
  leaseTtlSeconds?: number;
  /** Pause before connecting again, ms. Default 250. */
  retryMs?: number;
}

export interface Replica {
  readonly reachable: boolean;
  view(): ClusterView;
  /** A request found etcd unreachable: drop the watch and connect again. */
  lost(): void;
  /** Resolves true after the first full read is applied, false after `ms`; rejects when joining was refused (settings differ). */
  connected(ms: number): Promise<boolean>;
  close(): Promise<void>;
}

export function createReplica(options: ReplicaOptions): Replica {
  const { client, keys, applier, member, clock, log } = options;
  const ttl = options.leaseTtlSeconds ?? 5;
  let reachable = false;
  let revision = 0;
  let closed = false;
  let lease: string | undefined;
  let abort = (_why: string) => {};
  let lastProblem = "";
  const first = Promise.withResolvers<boolean>();
  first.promise.catch(() => undefined);
  /** The start-up stopped waiting for the first connection (connected, refused or timed out). */
  let settled = false;
  void first.promise.finally(() => (settled = true)).catch(() => undefined);

  async function session(signal: AbortSignal): Promise<void> {
    await options.join();
    lease = await client.grant(ttl);
    await client.txn([], [{ put: keys.member(member), value: JSON.stringify({ member, since: clock.now() }), lease }]);
    const read = await client.range(keys.prefix);
    await applier.full(read.kvs);
    revision = read.revision;
    if (!reachable) log.info(`Cluster: member ${member} reached etcd at ${client.endpoint}; ${applier.members.size} members alive, ${options.service.count} mappings at revision ${revision}.`);
    reachable = true;
    lastProblem = "";
    first.resolve(true);
    const watching = client.endpoint;
    const held = lease;
    // The keepalive is also the check that the endpoint still has a quorum; a silent watch would not tell.
    let beating = false;
    const stopBeat = clock.every((ttl * 1000) / 4, () => {
      if (beating) return; // the last one is still waiting for an answer
      beating = true;
      client.keepAlive(held).then(
        (left) => (left <= 0 ? abort("the lease of this member expired") : client.endpoint !== watching ? abort(`moving to ${client.endpoint}`) : undefined),
        (error: Error) => abort(error.message),
      ).finally(() => (beating = false));
    });
    try {
      for await (const batch of client.watch(keys.prefix, revision + 1, signal)) {
        await options.applier.events(batch.events);
        revision = batch.revision;
      }
    } finally {
      stopBeat();
    }
  }

  const loop = (async () => {
    while (!closed) {
      const controller = new AbortController();
      abort = (why) => controller.abort(new Error(why));
      try {
        await session(controller.signal);
      } catch (error) {
        // Settings that differ stop the start-up, which reports them; later (etcd came back) they are logged here.
        const refusesStart = isConnectorError(error, "config") && !settled;
        if (refusesStart) first.reject(error);
        const cause = controller.signal.aborted ? controller.signal.reason : error;
        const problem = cause instanceof Error ? cause.message : String(cause);
        if (!closed && !refusesStart && problem !== lastProblem) log.error(`Cluster: ${problem}`);
        lastProblem = problem;
      }
      controller.abort(new Error("stopped"));
      if (reachable && !closed) log.warn(`Cluster: member ${member} lost etcd; open mappings keep relaying, changes answer 503 until it is back.`);
      reachable = false;
      if (closed) break;
      const { promise, resolve } = Promise.withResolvers<void>();
      clock.after(options.retryMs ?? 250, resolve);
      await promise;
    }
  })();

  return {
    get reachable() {
      return reachable;
    },
    view: () => ({ member, members: [...applier.members].sort(), etcdReachable: reachable, revision }),
    lost: () => abort("a request found etcd unreachable"),
    async connected(ms) {
      const cancel = clock.after(ms, () => first.resolve(false));
      try {
        return await first.promise;
      } finally {
        cancel();
      }
    },
    async close() {
      closed = true;
      abort("stopping");
      await loop;
      if (lease !== undefined) {
        // Others see this member leave at once rather than after its lease runs out; if etcd is away, it runs out.
        await client.revoke(lease).catch((error: Error) => log.debug(`Cluster: the lease of ${member} was not revoked (${error.message}); it expires in ${ttl} s.`));
      }
    },
  };
}
