// Reject, heartbeat-timeout, stale-byte and record-mismatch totals over all ports, kept monotonic when a mapping (and its counters) goes away.
import type { MappingState, PortState, Relay } from "../relay/types.ts";
import { REJECT_REASONS } from "./ports.ts";
import { family, P } from "./text.ts";

export interface Totals {
  /** Adds a mapping's counters to what closed mappings left, just before the relay forgets it. */
  retire(state: MappingState): void;
  /** The total families: live ports plus retired ones. */
  render(states: MappingState[]): string;
}

/** The PortState counters summed into totals: they only grow while a port lives. */
const COUNTERS = [...REJECT_REASONS.map(([, field]) => field), "heartbeatTimeouts", "staleBytes", "recordMismatches"] as const;
type Counts = Record<(typeof COUNTERS)[number], number>;

const zero = (): Counts => Object.fromEntries(COUNTERS.map((key) => [key, 0])) as Counts;

function add(into: Counts, port: PortState): void {
  for (const key of COUNTERS) into[key] += port[key];
}

export function createTotals(): Totals {
  const retired = zero();
  return {
    retire(state) {
      add(retired, state.port1);
      add(retired, state.port2);
    },
    render(states) {
      const sum = { ...retired };
      let pending = 0;
      for (const { port1, port2 } of states) {
        add(sum, port1);
        add(sum, port2);
        pending += port1.pending + port2.pending;
      }
      return (
        family(`${P}_handshakes_pending`, "gauge", "Connections accepted on any port that have not finished their handshake (TLS and passcode).", [` ${pending}`]) +
        family(
          `${P}_handshakes_rejected_total`,
          "counter",
          "Connections closed before authorization, over all ports, by reason.",
          REJECT_REASONS.map(([reason, field]) => `{reason="${reason}"} ${sum[field]}`),
        ) +
        family(`${P}_heartbeat_timeouts_total`, "counter", "Agent connections closed for heartbeat absence, over all ports.", [` ${sum.heartbeatTimeouts}`]) +
        family(`${P}_stale_bytes_total`, "counter", "Payload bytes an agent wrote on a public mapping's connection while no client was bound to it, dropped.", [` ${sum.staleBytes}`]) +
        family(`${P}_tls_record_mismatches_total`, "counter", "TLS connections whose record lengths did not match their data, relayed read by read from then on.", [` ${sum.recordMismatches}`])
      );
    },
  };
}

/** The relay as the mapping service uses it: closing a mapping retires its counters into `totals` first. */
export function retiringRelay(relay: Relay, totals: Pick<Totals, "retire">): Relay {
  return {
    open: (mapping, options) => relay.open(mapping, options),
    close(id) {
      const state = relay.state(id);
      if (state !== undefined) totals.retire(state);
      return relay.close(id);
    },
    state: (id) => relay.state(id),
    states: () => relay.states(),
    get connections() {
      return relay.connections;
    },
    setTls: (tls) => relay.setTls(tls),
    shutdown: (graceMs) => relay.shutdown(graceMs),
  };
}
