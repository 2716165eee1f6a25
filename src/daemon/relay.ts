// Hosts the relay for the daemon: on relay threads (the default, one per core) or, with relayThreads 0, on the
// control thread itself; and the descriptor gate that both the API and the relay ask before keeping a connection.
import { availableParallelism } from "node:os";
import type { Clock } from "../clock.ts";
import { createDescriptorGate, descriptorLimit, openDescriptors, type DescriptorGate } from "../descriptors.ts";
import type { Logger } from "../log.ts";
import { createRelay } from "../relay/index.ts";
import type { MappingState, Relay, RelayOptions, TlsMaterial } from "../relay/types.ts";
import { createThreadedRelay, type ThreadedRelay } from "../threads/index.ts";

export type RelayLimits = Pick<RelayOptions, "handshakeTimeoutMs" | "holdTimeoutMs" | "bindRetryMs" | "privateHoldBytes" | "maxPendingPerPort" | "guessLimits" | "strangerLimits" | "floodLimits">;

export interface DaemonRelay {
  relay: Relay;
  gate: DescriptorGate;
  /** Relay threads; 0 when the control thread relays. */
  threads: number;
  /** Relay threads started again after a crash. */
  restarts(): number;
  /** The relay threads' host; undefined when the control thread relays. */
  threaded: ThreadedRelay | undefined;
}

export interface DaemonRelayOptions {
  /** Undefined: one per core. */
  threads: number | undefined;
  log: Logger;
  clock: Clock;
  tls: TlsMaterial | undefined;
  hostname: string;
  limits: RelayLimits | undefined;
  /** Descriptors the control thread holds beyond those open at start: listeners and API connections. */
  controlInUse: () => number;
  /** What a closed mapping counted after its last state was read (relay threads publish on a timer); added to the totals. */
  retire: (late: MappingState) => void;
}

export function hostRelay(options: DaemonRelayOptions): DaemonRelay {
  const { log, clock, tls, hostname, controlInUse } = options;
  const threads = options.threads ?? availableParallelism();
  const limit = descriptorLimit();
  const base = openDescriptors() ?? 0;
  let relay: Relay | undefined;
  // Relayed connections, listeners and API connections are what grows; the rest was open at start or is in the reserve.
  const gate = createDescriptorGate({ limit, base, clock, log, inUse: () => (relay?.connections ?? 0) + controlInUse() });
  if (threads === 0) {
    relay = createRelay({ ...options.limits, log, clock, tls, hostname, admit: gate.admit, freeDescriptors: gate.free });
    return { relay, gate, threads, restarts: () => 0, threaded: undefined };
  }
  const threaded = createThreadedRelay({ threads, log, clock, tls, relay: { ...options.limits, hostname }, descriptors: { limit, base, controlInUse }, onClosed: options.retire });
  relay = threaded;
  return { relay, gate, threads, restarts: () => threaded.restarts, threaded };
}
