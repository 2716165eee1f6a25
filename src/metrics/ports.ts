// The per-port series: a few per mapping, keyed by `port`, rendered in slices so a scrape can yield between them.
import type { MappingState, PortState } from "../relay/types.ts";
import { labelValue, P } from "./text.ts";

/** Mappings rendered per slice of a family: a slice takes well under a millisecond. */
const SLICE = 500;

type Side = 1 | 2;

interface PortFamily {
  name: string;
  type: "gauge" | "counter";
  help: string;
  /** Zero or more whole lines (each ending in "\n") for one port of a mapping. */
  lines(name: string, port: PortState, mapping: MappingState, side: Side): string;
}

const agentPort = (mapping: MappingState, side: Side) => side === 1 || mapping.kind === "private";
const publicPort = (mapping: MappingState, side: Side) => side === 2 && mapping.kind === "public";

/** What an operator graphs per mapping: listener up, bytes each way, agents, clients. */
const FAMILIES: PortFamily[] = [
  {
    name: "port_active",
    type: "gauge",
    help: "1 while the port's listener is bound and accepting. Carries the port's mapping id: join other per-port series on(port) to it.",
    lines: (name, p, m) => `${name}{port="${p.port}",mapping="${labelValue(m.id)}"} ${p.active ? 1 : 0}\n`,
  },
  {
    name: "received_bytes_total",
    type: "counter",
    help: "Payload bytes read from the port's connections.",
    lines: (name, p) => `${name}{port="${p.port}"} ${p.bytesIn}\n`,
  },
  {
    name: "sent_bytes_total",
    type: "counter",
    help: "Payload bytes written to the port's connections.",
    lines: (name, p) => `${name}{port="${p.port}"} ${p.bytesOut}\n`,
  },
  {
    name: "agents",
    type: "gauge",
    help: "Authorized agent connections open on an agent port (port1; both ports of a private mapping).",
    lines: (name, p, m, side) => (agentPort(m, side) ? `${name}{port="${p.port}"} ${p.authorized}\n` : ""),
  },
  {
    name: "clients_bound",
    type: "gauge",
    help: "Public clients on a public mapping's port2 bound to an agent connection.",
    lines: (name, p, m, side) => (publicPort(m, side) ? `${name}{port="${p.port}"} ${p.bound}\n` : ""),
  },
  {
    name: "clients_held",
    type: "gauge",
    help: "Public clients on a public mapping's port2 held unread while no agent connection is free.",
    lines: (name, p, m, side) => (publicPort(m, side) ? `${name}{port="${p.port}"} ${p.waiting}\n` : ""),
  },
];

/** Why a connection was closed before authorization, and where PortState counts it. */
export const REJECT_REASONS = [
  ["passcode", "rejectedPasscode"],
  ["timeout", "rejectedTimeout"],
  ["limit", "rejectedLimit"],
  ["throttled", "rejectedThrottled"],
  ["overload", "rejectedOverload"],
  ["tls", "rejectedTls"],
] as const satisfies ReadonlyArray<readonly [string, keyof PortState]>;

/** The breakdown of the totals by port (metricsPerMappingRejects): only the ports where a count is not zero. */
const BREAKDOWN: PortFamily[] = [
  {
    name: "port_handshakes_rejected_total",
    type: "counter",
    help: "Connections closed before authorization on a port, by reason; only non-zero counts are listed.",
    lines: (name, p) => {
      let out = "";
      for (const [reason, field] of REJECT_REASONS) if (p[field] > 0) out += `${name}{port="${p.port}",reason="${reason}"} ${p[field]}\n`;
      return out;
    },
  },
  {
    name: "port_heartbeat_timeouts_total",
    type: "counter",
    help: "Agent connections closed for heartbeat absence on a port; only non-zero counts are listed.",
    lines: (name, p) => (p.heartbeatTimeouts > 0 ? `${name}{port="${p.port}"} ${p.heartbeatTimeouts}\n` : ""),
  },
];

/** Each per-port family in turn, in slices of SLICE mappings; a family's samples stay together as the format requires. */
export function* portSeries(states: MappingState[], breakdown: boolean): Generator<string> {
  for (const family of breakdown ? [...FAMILIES, ...BREAKDOWN] : FAMILIES) {
    const name = `${P}_${family.name}`;
    let chunk = `# HELP ${name} ${family.help}\n# TYPE ${name} ${family.type}\n`;
    for (let i = 0; i < states.length; i++) {
      const mapping = states[i]!;
      chunk += family.lines(name, mapping.port1, mapping, 1) + family.lines(name, mapping.port2, mapping, 2);
      if ((i + 1) % SLICE === 0) {
        yield chunk;
        chunk = "";
      }
    }
    yield chunk;
  }
}
