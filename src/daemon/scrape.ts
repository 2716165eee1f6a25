// GET /metrics: what a scrape reads from the running daemon, rendered from the numbers the relay has published.
import type { ClusterView } from "../cluster/replica.ts";
import type { ClosableLogger } from "../log.ts";
import type { MappingService } from "../mappings/service.ts";
import type { Metrics } from "../metrics/metrics.ts";
import { metricsResponse } from "../metrics/response.ts";
import type { PortPool } from "../ports/pool.ts";
import type { DaemonRelay } from "./relay.ts";

export function createScrape(sources: { metrics: Metrics; relay: DaemonRelay; service: MappingService; pool: PortPool; log: ClosableLogger; cluster?: () => ClusterView }): () => Response {
  const { metrics, relay, service, pool, log } = sources;
  return () =>
    metricsResponse(
      metrics.render({
        states: relay.relay.states(),
        mappings: service.count,
        directs: service.directCount,
        portsFree: pool.available,
        portsTotal: pool.size,
        logWriteFailures: log.writeFailures,
        relayThreads: relay.threads,
        relayThreadRestarts: relay.restarts(),
        cluster: sources.cluster?.(),
      }),
    );
}
