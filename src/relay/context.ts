// What every part of one relay shares: its dependencies, its resolved limits and whether it is stopping.
import type { Clock } from "../clock.ts";
import type { Logger } from "../log.ts";
import { createGuard, DEFAULT_GUESS_LIMITS, type Guard } from "./guard.ts";
import type { MappingRuntime } from "./mapping.ts";
import { serverTls, type ServerTls } from "./tls.ts";
import type { RelayOptions } from "./types.ts";

/** The shared state of one relay, built once by createRelay and handed to each part. */
export interface RelayContext {
  readonly log: Logger;
  readonly clock: Clock;
  readonly hostname: string;
  readonly handshakeTimeoutMs: number;
  readonly holdTimeoutMs: number;
  readonly bindRetryMs: number;
  readonly privateHoldBytes: number;
  readonly publicHoldBytes: number;
  readonly halfCloseIdleMs: number;
  readonly maxPendingPerPort: number;
  /** Wrong passcodes per address, for slowing down guessing. */
  readonly guard: Guard;
  /** Whether one more connection may be kept (descriptors); always yes when not given. */
  readonly admit: () => boolean;
  /** TLS for connections accepted from now on; plain TCP when undefined. */
  tls: ServerTls | undefined;
  readonly mappings: Map<string, MappingRuntime>;
  /** Open connections over all mappings, so that shutdown knows when it is done. */
  connections: number;
  /** Set by shutdown: read nothing more, close each connection once what it is owed is flushed. */
  stopping: boolean;
  /** Called by shutdown's wait when the last connection closes. */
  onAllClosed: (() => void) | null;
}

export function createContext(options: RelayOptions): RelayContext {
  return {
    log: options.log,
    clock: options.clock,
    hostname: options.hostname ?? "0.0.0.0",
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
    holdTimeoutMs: options.holdTimeoutMs ?? 10_000,
    bindRetryMs: options.bindRetryMs ?? 1_000,
    privateHoldBytes: options.privateHoldBytes ?? 1024 * 1024,
    publicHoldBytes: options.publicHoldBytes ?? 64 * 1024,
    halfCloseIdleMs: options.halfCloseIdleMs ?? 60_000,
    maxPendingPerPort: options.maxPendingPerPort ?? 256,
    guard: createGuard(options.guessLimits ?? DEFAULT_GUESS_LIMITS),
    admit: options.admit ?? (() => true),
    tls: options.tls === undefined ? undefined : serverTls(options.tls),
    mappings: new Map(),
    connections: 0,
    stopping: false,
    onAllClosed: null,
  };
}
