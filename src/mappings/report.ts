// The status report an operator reads: from `iofog-connector status` and from commandline status.
import type { ClusterView } from "../cluster/replica.ts";
import type { MappingKind, MappingState, RelayMapping } from "../relay/types.ts";

/** Status "all" with the fields this Connector adds. */
export interface StatusSummary {
  status: string;
  version: string;
  mappings: number;
  availablePorts: number;
  totalPorts?: number;
  uptime?: number;
  mode?: string;
  api?: string;
  directs?: number;
  connections?: number;
  /** Cluster mode: this member's view of the cluster. */
  cluster?: ClusterView;
}

/** A row of mapping/list. */
export interface MappingRow {
  id: string;
  type: MappingKind;
  port1: number;
  port2: number;
  maxconnectionsport1: number;
  maxconnectionsport2: number;
  heartbeatabsencethresholdport1: number;
  heartbeatabsencethresholdport2: number;
  active1?: boolean;
  active2?: boolean;
  agents1?: number;
  agents2?: number;
  clients?: number;
  waiting?: number;
  bytesin?: number;
  bytesout?: number;
  lastactivity?: number;
}

export function formatReport(summary: StatusSummary, rows: MappingRow[], now: number): string {
  const lines = [
    `Connector ${summary.version} is ${summary.status}${summary.mode ? ` (${summary.mode})` : ""}${summary.api ? `, API ${summary.api}` : ""}`,
    `Uptime: ${summary.uptime === undefined ? "unknown" : formatDuration(summary.uptime * 1000)}`,
    `Ports: ${summary.availablePorts} free${summary.totalPorts === undefined ? "" : ` of ${summary.totalPorts}`}`,
    `Mappings: ${summary.mappings}${summary.directs ? `, direct connections: ${summary.directs}` : ""}${summary.connections === undefined ? "" : `, open connections: ${summary.connections}`}`,
  ];
  if (summary.cluster) lines.push(clusterLine(summary.cluster));
  if (rows.length === 0) return lines.join("\n");
  const table = [["ID", "KIND", "PORTS", "AGENTS", "CLIENTS", "IN", "OUT", "LAST ACTIVITY"]];
  for (const row of rows) {
    const agents = row.type === "public"
      ? `${row.agents1 ?? 0}/${row.maxconnectionsport1}`
      : `${row.agents1 ?? 0}/${row.maxconnectionsport1} ${row.agents2 ?? 0}/${row.maxconnectionsport2}`;
    const down = row.active1 === false || row.active2 === false ? " (inactive)" : "";
    table.push([
      row.id.slice(0, 8),
      row.type + down,
      `${row.port1}/${row.port2}`,
      agents,
      row.type === "public" ? String(row.clients ?? 0) : "-",
      formatBytes(row.bytesin ?? 0),
      formatBytes(row.bytesout ?? 0),
      row.lastactivity ? `${formatDuration(now - row.lastactivity)} ago` : "never",
    ]);
  }
  const widths = table[0]!.map((_, column) => Math.max(...table.map((r) => r[column]!.length)));
  lines.push("", ...table.map((r) => r.map((cell, column) => cell.padEnd(widths[column]!)).join("  ").trimEnd()));
  return lines.join("\n");
}

export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600)}h`;
}

/** A mapping as mapping/list shows it: never its passcodes. */
export function describeMapping(m: RelayMapping, state: MappingState | undefined): MappingRow {
  return {
    id: m.id,
    type: m.kind,
    port1: m.port1,
    port2: m.port2,
    maxconnectionsport1: m.maxConnections1,
    maxconnectionsport2: m.maxConnections2,
    heartbeatabsencethresholdport1: m.heartbeatThreshold1,
    heartbeatabsencethresholdport2: m.heartbeatThreshold2,
    ...liveCounts(state),
  };
}

/** Connection and byte counts of a mapping, added to status and list answers. */
export function liveCounts(state: MappingState | undefined) {
  if (state === undefined) return {};
  const { port1, port2 } = state;
  return {
    active1: port1.active,
    active2: port2.active,
    agents1: port1.authorized,
    agents2: port2.authorized,
    clients: port2.bound,
    waiting: port2.waiting,
    bytesin: port1.bytesIn + port2.bytesIn,
    bytesout: port1.bytesOut + port2.bytesOut,
    lastactivity: Math.max(port1.lastActivity, port2.lastActivity),
  };
}

/** "Cluster: member a, 2 members alive (a, b), etcd reachable, revision 42". */
function clusterLine(view: ClusterView): string {
  const etcd = view.etcdReachable ? "etcd reachable" : "etcd NOT reachable (mapping and direct changes answer 503; open mappings keep relaying)";
  return `Cluster: member ${view.member}, ${view.members.length} member${view.members.length === 1 ? "" : "s"} alive (${view.members.join(", ") || "none seen"}), ${etcd}, revision ${view.revision}`;
}
