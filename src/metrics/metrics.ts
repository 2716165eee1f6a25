// Prometheus metrics: global gauges, per-port relay series, reject totals, API and state-file timings.
import { readdir } from "node:fs/promises";
import type { ClusterView } from "../cluster/replica.ts";
import type { MappingState } from "../relay/types.ts";
import { createHistogram } from "./histogram.ts";
import { portSeries } from "./ports.ts";
import { family, labelValue, P } from "./text.ts";
import { createTotals } from "./totals.ts";

/** What a scrape reads from the running daemon. */
export interface MetricsSnapshot {
  states: MappingState[];
  mappings: number;
  directs: number;
  portsFree: number;
  portsTotal: number;
  /** Log lines dropped because the log file or stdout could not take them. */
  logWriteFailures: number;
  /** Threads that relay; 0 when the control thread does. */
  relayThreads: number;
  /** Relay threads started again after a crash. */
  relayThreadRestarts: number;
  /** Cluster mode: this member's view. */
  cluster?: ClusterView;
}

export interface MetricsOptions {
  version: string;
  startedAt: number;
  /** Also list rejects and heartbeat timeouts per port where not zero (setting metricsPerMappingRejects). */
  perPortRejects?: boolean;
}

export interface Metrics {
  recordApi(endpoint: string, status: number, seconds: number): void;
  recordStateWrite(ok: boolean, seconds: number): void;
  /** Keeps a closing mapping's rejects and heartbeat timeouts in the totals. */
  retire(state: MappingState): void;
  /** The text exposition format, version 0.0.4, in chunks of at most a few hundred mappings' worth. */
  render(snapshot: MetricsSnapshot): AsyncGenerator<string>;
}

export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export function createMetrics(options: MetricsOptions): Metrics {
  const apiCounts = new Map<string, number>();
  const apiLatency = createHistogram();
  const writeLatency = createHistogram();
  const writes = { ok: 0, error: 0 };
  const totals = createTotals();

  const head = (snapshot: MetricsSnapshot) =>
    family(`${P}_info`, "gauge", "Version of the running Connector.", [`{version="${labelValue(options.version)}"} 1`]) +
    family(`${P}_start_time_seconds`, "gauge", "Start time of the Connector, seconds since the epoch.", [` ${options.startedAt / 1000}`]) +
    family(`${P}_mappings`, "gauge", "Open port mappings.", [` ${snapshot.mappings}`]) +
    family(`${P}_direct_connections`, "gauge", "Open direct-connection records.", [` ${snapshot.directs}`]) +
    family(`${P}_ports_free`, "gauge", "Pool ports not assigned to a mapping.", [` ${snapshot.portsFree}`]) +
    family(`${P}_ports`, "gauge", "Ports in the pool.", [` ${snapshot.portsTotal}`]) +
    family(`${P}_relay_threads`, "gauge", "Threads that relay; 0 when the control thread relays.", [` ${snapshot.relayThreads}`]) +
    family(`${P}_relay_thread_restarts_total`, "counter", "Relay threads that stopped unexpectedly and were started again, their mappings reopened.", [` ${snapshot.relayThreadRestarts}`]) +
    (snapshot.cluster ? clusterFamilies(snapshot.cluster) : "") +
    totals.render(snapshot.states);

  const tail = (snapshot: MetricsSnapshot, openFds: number) => {
    const memory = process.memoryUsage();
    return (
      family(`${P}_state_writes_total`, "counter", "Writes of the state file, by result.", [`{result="ok"} ${writes.ok}`, `{result="error"} ${writes.error}`]) +
      family(`${P}_state_write_seconds`, "histogram", "Time to write the state file durably.", writeLatency.render("")) +
      family(`${P}_log_write_failures_total`, "counter", "Log lines dropped because the log file or stdout could not take them.", [` ${snapshot.logWriteFailures}`]) +
      family(`${P}_api_requests_total`, "counter", "API requests by endpoint and HTTP status.", Array.from(apiCounts, ([labels, count]) => `{${labels}} ${count}`)) +
      family(`${P}_api_request_seconds`, "histogram", "API request latency by endpoint.", apiLatency.render("")) +
      family("process_resident_memory_bytes", "gauge", "Resident memory of the Connector process.", [` ${memory.rss}`]) +
      family("process_open_fds", "gauge", "Open file descriptors of the Connector process.", [` ${openFds}`])
    );
  };

  return {
    recordApi(endpoint, status, seconds) {
      const key = `endpoint="${labelValue(endpoint)}",status="${status}"`;
      apiCounts.set(key, (apiCounts.get(key) ?? 0) + 1);
      apiLatency.observe(`endpoint="${labelValue(endpoint)}"`, seconds);
    },
    recordStateWrite(ok, seconds) {
      writes[ok ? "ok" : "error"]++;
      writeLatency.observe("", seconds);
    },
    retire: (state) => totals.retire(state),
    async *render(snapshot) {
      const openFds = countOpenDescriptors();
      yield head(snapshot);
      yield* portSeries(snapshot.states, options.perPortRejects ?? false);
      yield tail(snapshot, await openFds);
    },
  };
}

/** Open descriptors, -1 where /proc is missing; read off the event loop, which a readdir of 18,000 entries would hold for ~15 ms. */
async function countOpenDescriptors(): Promise<number> {
  try {
    return (await readdir("/proc/self/fd")).length;
  } catch {
    return -1;
  }
}

/** The member's view of the cluster (cluster mode only). */
function clusterFamilies(view: ClusterView): string {
  return (
    family(`${P}_cluster_members_alive`, "gauge", "Cluster members holding a lease key in etcd, as this member sees them.", [` ${view.members.length}`]) +
    family(`${P}_cluster_etcd_reachable`, "gauge", "1 while this member reaches etcd with a quorum, else 0.", [` ${view.etcdReachable ? 1 : 0}`]) +
    family(`${P}_cluster_revision`, "gauge", "The etcd revision this member's mappings reflect.", [` ${view.revision}`])
  );
}
