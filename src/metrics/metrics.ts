// Prometheus metrics: per-mapping relay counters read from the engine at scrape time, API and state-file timings.
import { openDescriptors } from "../descriptors.ts";
import type { MappingState, PortState } from "../relay/types.ts";
import { createHistogram } from "./histogram.ts";

/** What a scrape reads from the running daemon. */
export interface MetricsSnapshot {
  states: MappingState[];
  mappings: number;
  directs: number;
  portsFree: number;
  portsTotal: number;
}

export interface Metrics {
  recordApi(endpoint: string, status: number, seconds: number): void;
  recordStateWrite(ok: boolean, seconds: number): void;
  /** The text exposition format, version 0.0.4. */
  render(snapshot: MetricsSnapshot): string;
}

export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
const P = "iofog_connector";

export function createMetrics(options: { version: string; startedAt: number }): Metrics {
  const apiCounts = new Map<string, number>();
  const apiLatency = createHistogram();
  const writeLatency = createHistogram();
  const writes = { ok: 0, error: 0 };

  return {
    recordApi(endpoint, status, seconds) {
      const key = `endpoint="${escape(endpoint)}",status="${status}"`;
      apiCounts.set(key, (apiCounts.get(key) ?? 0) + 1);
      apiLatency.observe(`endpoint="${escape(endpoint)}"`, seconds);
    },
    recordStateWrite(ok, seconds) {
      writes[ok ? "ok" : "error"]++;
      writeLatency.observe("", seconds);
    },
    render(snapshot) {
      const out: string[] = [];
      const family = (name: string, type: string, help: string, lines: Iterable<string>) => {
        out.push(`# HELP ${P}_${name} ${help}`, `# TYPE ${P}_${name} ${type}`);
        for (const line of lines) out.push(`${P}_${name}${line}`);
      };
      const perPort = (pick: (port: PortState, labels: string) => string[]) => {
        const lines: string[] = [];
        for (const state of snapshot.states) {
          for (const port of [state.port1, state.port2]) {
            lines.push(...pick(port, `mapping="${escape(state.id)}",kind="${state.kind}",port="${port.port}"`));
          }
        }
        return lines;
      };
      family("info", "gauge", "Version of the running Connector.", [`{version="${escape(options.version)}"} 1`]);
      family("start_time_seconds", "gauge", "Start time of the Connector, seconds since the epoch.", [` ${options.startedAt / 1000}`]);
      family("mappings", "gauge", "Open port mappings.", [` ${snapshot.mappings}`]);
      family("direct_connections", "gauge", "Open direct-connection records.", [` ${snapshot.directs}`]);
      family("ports_free", "gauge", "Pool ports not assigned to a mapping.", [` ${snapshot.portsFree}`]);
      family("ports_total", "gauge", "Ports in the pool.", [` ${snapshot.portsTotal}`]);
      family("port_active", "gauge", "1 when the port's listener is bound and accepting.", perPort((p, l) => [`{${l}} ${p.active ? 1 : 0}`]));
      family("agent_connections", "gauge", "Agent connections on a port, by state.", perPort((p, l) => [`{${l},state="authorized"} ${p.authorized}`, `{${l},state="pending"} ${p.pending}`]));
      family("public_connections", "gauge", "Public clients on a public mapping's port2, by state.", snapshot.states.flatMap((state) => {
        if (state.kind !== "public") return [];
        const l = `mapping="${escape(state.id)}",kind="public",port="${state.port2.port}"`;
        return [`{${l},state="bound"} ${state.port2.bound}`, `{${l},state="waiting"} ${state.port2.waiting}`];
      }));
      family("bytes_total", "counter", "Payload bytes relayed on a port: in = read from its connections, out = written to them.", perPort((p, l) => [`{${l},direction="in"} ${p.bytesIn}`, `{${l},direction="out"} ${p.bytesOut}`]));
      family("handshakes_rejected_total", "counter", "Connections closed before authorization, by reason.", perPort((p, l) => [
        `{${l},reason="passcode"} ${p.rejectedPasscode}`,
        `{${l},reason="timeout"} ${p.rejectedTimeout}`,
        `{${l},reason="limit"} ${p.rejectedLimit}`,
        `{${l},reason="throttled"} ${p.rejectedThrottled}`,
        `{${l},reason="overload"} ${p.rejectedOverload}`,
      ]));
      family("heartbeat_timeouts_total", "counter", "Agent connections closed for heartbeat absence.", perPort((p, l) => [`{${l}} ${p.heartbeatTimeouts}`]));
      family("state_writes_total", "counter", "Writes of the state file, by result.", [`{result="ok"} ${writes.ok}`, `{result="error"} ${writes.error}`]);
      family("state_write_seconds", "histogram", "Time to write the state file durably.", writeLatency.render(""));
      family("api_requests_total", "counter", "API requests by endpoint and HTTP status.", Array.from(apiCounts, ([labels, count]) => `{${labels}} ${count}`));
      family("api_request_seconds", "histogram", "API request latency by endpoint.", apiLatency.render(""));
      const memory = process.memoryUsage();
      out.push(
        "# HELP process_resident_memory_bytes Resident memory of the Connector process.",
        "# TYPE process_resident_memory_bytes gauge",
        `process_resident_memory_bytes ${memory.rss}`,
        "# HELP process_open_fds Open file descriptors of the Connector process.",
        "# TYPE process_open_fds gauge",
        `process_open_fds ${openDescriptors() ?? -1}`,
      );
      return `${out.join("\n")}\n`;
    },
  };
}

function escape(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
