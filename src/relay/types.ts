// The contract between the control plane (API, daemon) and the relay engine that moves the bytes.
import type { Clock } from "../clock.ts";
import type { Logger } from "../log.ts";
import type { FloodLimits, StrangerLimits } from "./admission.ts";
import type { GuessLimits } from "./guard.ts";

export type MappingKind = "public" | "private";

/** What the engine needs to serve one mapping: two ports, their passcodes and limits. */
export interface RelayMapping {
  id: string;
  kind: MappingKind;
  /** Agent side (passcode1). */
  port1: number;
  /** Public side for a public mapping; the second agent side for a private one. */
  port2: number;
  passcode1: string;
  /** Empty for a public mapping. */
  passcode2: string;
  maxConnections1: number;
  /** Means nothing for a public mapping (stored as 0). */
  maxConnections2: number;
  /** Milliseconds without a read after which an agent connection is closed; 0 = never. */
  heartbeatThreshold1: number;
  heartbeatThreshold2: number;
}

/** PEM certificate and key; the engine speaks TLS on every relay port when given one. */
export interface TlsMaterial {
  cert: string;
  key: string;
}

/** What one listening port of a mapping is doing right now. */
export interface PortState {
  port: number;
  /** The listener is bound and accepting. */
  active: boolean;
  /** Connections accepted that have not finished their handshake (TLS and passcode). */
  pending: number;
  /** Agent connections that presented the right passcode and are open (agent ports). */
  authorized: number;
  /** Public clients bound to an agent connection (public port2). */
  bound: number;
  /** Public clients held while no agent connection is free (public port2). */
  waiting: number;
  /** Established connections the relay is not reading now (backpressure, a held payload, a held client). */
  paused: number;
  /** Payload bytes read from this port's connections. */
  bytesIn: number;
  /** Payload bytes written to this port's connections. */
  bytesOut: number;
  /**
   * Connections refused because of a wrong passcode / handshake or hold timeout, or closed to make room for
   * newer ones (admission.ts) / maxconnections.
   */
  rejectedPasscode: number;
  rejectedTimeout: number;
  rejectedLimit: number;
  /** Unanswered wrong passcodes (tarpits) of an address guessing on this port, closed early to make room for its newer connections. */
  rejectedThrottled: number;
  /** Connections closed at accept because the process is near its descriptor limit and no stranger was left to close for them. */
  rejectedOverload: number;
  heartbeatTimeouts: number;
  /** Agent connections that opened a TLS handshake on a plain-TCP (dev mode) port, closed at once. */
  rejectedTls: number;
  /** Payload bytes read from a public mapping's agent connection while no client was bound to it, dropped. */
  staleBytes: number;
  /** TLS connections whose record lengths did not match their plaintext; relayed read by read from then on. */
  recordMismatches: number;
  /** Milliseconds since the epoch of the last byte read or written; 0 = never. */
  lastActivity: number;
}

/** A port's numbers as read live from the engine, without a copy (what a relay thread publishes). */
export type PortReading = Readonly<Omit<PortState, "port">>;

export interface MappingState {
  id: string;
  kind: MappingKind;
  port1: PortState;
  port2: PortState;
}

export interface OpenOptions {
  /**
   * false (a new mapping): if either port cannot be bound, nothing stays bound and open()
   * rejects with ConnectorError("port_in_use", { port }).
   * true (restoring a mapping at start): a port that cannot be bound is retried every second
   * and reported inactive meanwhile; open() resolves at once after the first attempt.
   */
  retry: boolean;
}

export interface Relay {
  /** Binds both listeners of a mapping; resolves once each accepts connections (or is retrying). */
  open(mapping: RelayMapping, options: OpenOptions): Promise<void>;
  /**
   * Closes both listeners and every connection of the mapping, and cancels its timers. Unknown id: no-op.
   * A relay on another thread closes them a moment later: the promise resolves once it has.
   */
  close(id: string): void | Promise<void>;
  /** Live state of one mapping; undefined for an unknown id. */
  state(id: string): MappingState | undefined;
  /** Live state of all mappings. */
  states(): MappingState[];
  /** Open relayed connections over all mappings. */
  readonly connections: number;
  /** New certificate and key for connections accepted from now on (settings reload). */
  setTls(tls: TlsMaterial): void;
  /**
   * Stops accepting on every port, ends every connection after flushing what was already read,
   * and resolves when all sockets are closed or `graceMs` has passed (then the rest are dropped).
   */
  shutdown(graceMs: number): Promise<void>;
}

/** The engine as its host sees it: the contract, and its ports' live numbers for a host that publishes them. */
export interface LocalRelay extends Relay {
  /** The live numbers of a mapping's two ports, read in place (nothing is allocated); undefined for an unknown id. */
  live(id: string): { readonly port1: PortReading; readonly port2: PortReading } | undefined;
}

export interface RelayOptions {
  log: Logger;
  clock: Clock;
  /** Plain TCP when undefined (dev mode). */
  tls?: TlsMaterial;
  /** Address the listeners bind; "0.0.0.0" by default (all interfaces), "127.0.0.1" in tests. */
  hostname?: string;
  /** Passcode and TLS handshake deadline after accept, ms. Default 10,000. */
  handshakeTimeoutMs?: number;
  /** How long a public client is held while no agent connection is free, ms. Default 10,000. */
  holdTimeoutMs?: number;
  /** Retry interval for ports that cannot be bound at restore, ms. Default 1,000. */
  bindRetryMs?: number;
  /** Payload held for an absent private peer before reading stops, bytes. Default 1 MiB. */
  privateHoldBytes?: number;
  /**
   * What a held public client (no agent connection free) may send before reading it stops, bytes.
   * Default 64 KiB. It is read so that a client that leaves while held is noticed and never paired.
   */
  publicHoldBytes?: number;
  /** A public pair with one direction ended (half-close) is closed after this long without traffic, ms. Default 60,000. */
  halfCloseIdleMs?: number;
  /** Connections still in their handshake allowed per port. Default 256. */
  maxPendingPerPort?: number;
  /** When an address on a port counts as guessing passcodes, and what it costs it (see guard.ts). */
  guessLimits?: GuessLimits;
  /**
   * Strangers (connections in their handshake, held public clients) kept in total and per source address
   * (see admission.ts); by default at most half of the descriptors the process may still open.
   */
  strangerLimits?: StrangerLimits;
  /** When an address counts as flooding (connections that never finish a handshake), and what it may hold then. */
  floodLimits?: FloodLimits;
  /**
   * Asked for every accepted connection; false: the process is near its descriptor limit, so a stranger
   * is closed to make room, or the newcomer when there is none.
   */
  admit?: () => boolean;
  /** Descriptors the process may still open before its reserve; strangers may hold a share of them. */
  freeDescriptors?: () => number;
}
