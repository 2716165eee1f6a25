// The status the API and `iofog-connector status` report: the one-line summary and the full report with every mapping.
import { isIPv6 } from "node:net";
import type { ClusterView } from "../cluster/replica.ts";
import type { Clock } from "../clock.ts";
import type { Settings } from "../config/load.ts";
import { describeMapping, formatReport, type StatusSummary } from "../mappings/report.ts";
import type { MappingService } from "../mappings/service.ts";
import type { PortPool } from "../ports/pool.ts";
import type { Relay } from "../relay/types.ts";
import { VERSION } from "../version.ts";

export interface StatusSources {
  settings: Settings;
  clock: Clock;
  startedAt: number;
  pool: PortPool;
  service: MappingService;
  relay: Pick<Relay, "states">;
  /** The API's port once it listens. */
  apiPort: () => number;
  /** Cluster mode: this member's view of the cluster. */
  cluster?: () => ClusterView;
}

export function createStatus(sources: StatusSources) {
  const { settings, clock, startedAt, pool, service, relay } = sources;
  const scheme = settings.dev ? "http" : "https";
  const summary = () => ({
    totalPorts: pool.size,
    uptime: Math.floor((clock.now() - startedAt) / 1000),
    mode: settings.dev ? "dev mode, plain TCP" : "TLS",
    api: `${scheme}://${isIPv6(settings.address) ? `[${settings.address}]` : settings.address}:${sources.apiPort()}`,
    directs: service.directCount,
    ...(sources.cluster && { cluster: sources.cluster() }),
  });
  /** The report as JSON or as the text `status` prints. */
  const report = (json: boolean) => {
    let connections = 0;
    for (const { port1, port2 } of relay.states()) connections += port1.pending + port1.authorized + port2.pending + port2.authorized + port2.bound + port2.waiting;
    const head: StatusSummary = { status: "running", version: VERSION, mappings: service.count, availablePorts: service.availablePorts, ...summary(), connections };
    const rows = service.list().map((m) => describeMapping(m, service.state(m.id)));
    return json ? JSON.stringify({ ...head, list: rows }) : formatReport(head, rows, clock.now());
  };
  return { summary, report };
}
