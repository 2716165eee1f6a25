// The live state of one mapping: its two ports, their connections, pairing queues and counters.
import type { TCPSocketListener } from "bun";
import type { Conn } from "./conn.ts";
import type { MappingKind, MappingState, PortState, RelayMapping } from "./types.ts";

const NONE: readonly Conn[] = Object.freeze([]);

function first(set: Set<Conn> | null): Conn | undefined {
  if (set !== null) for (const conn of set) return conn;
  return undefined;
}

/** One listening port of a mapping: what it accepts, who is connected, and what it has counted. */
export class RelayPort {
  listener: TCPSocketListener<Conn> | null = null;
  /** Whether the current listener speaks TLS (a reload may change it for listeners bound later). */
  tls = false;
  /** Cancels the bind retry while the port cannot be bound. */
  stopRetry: (() => void) | null = null;
  // The sets exist only while they hold a connection: most of a large deployment's ports are idle.
  private connSet: Set<Conn> | null = null;
  private pendingSet: Set<Conn> | null = null;
  private freeSet: Set<Conn> | null = null;
  other!: RelayPort;

  authorized = 0;
  bound = 0;
  bytesIn = 0;
  bytesOut = 0;
  rejectedPasscode = 0;
  rejectedTimeout = 0;
  rejectedLimit = 0;
  rejectedThrottled = 0;
  rejectedOverload = 0;
  heartbeatTimeouts = 0;
  rejectedTls = 0;
  staleBytes = 0;
  recordMismatches = 0;
  lastActivity = 0;
  /** When a TLS client on this plain port was last reported, so that it is said once a minute. */
  tlsWarnedAt = 0;

  constructor(
    readonly mapping: MappingRuntime,
    readonly number: number,
    /** Agents present a passcode; public clients (port2 of a public mapping) do not. */
    readonly agent: boolean,
    readonly passcode: string,
    readonly maxConnections: number,
    readonly heartbeatMs: number,
  ) {}

  /** Every open connection accepted on this port (deleting while iterating is safe). */
  get conns(): Iterable<Conn> {
    return this.connSet ?? NONE;
  }

  addConn(conn: Conn): void {
    (this.connSet ??= new Set()).add(conn);
  }

  removeConn(conn: Conn): void {
    if (this.connSet?.delete(conn) && this.connSet.size === 0) this.connSet = null;
  }

  /** Connections still in their handshake (TLS, passcode), oldest first. */
  get pending(): number {
    return this.pendingSet?.size ?? 0;
  }

  addPending(conn: Conn): void {
    (this.pendingSet ??= new Set()).add(conn);
  }

  removePending(conn: Conn): void {
    if (this.pendingSet?.delete(conn) && this.pendingSet.size === 0) this.pendingSet = null;
  }

  pendingConns(): Iterable<Conn> {
    return this.pendingSet ?? [];
  }

  oldestPending(): Conn | undefined {
    return first(this.pendingSet);
  }

  /** Connections ready for a partner from the other port: idle agents, held public clients, lone private agents. */
  addFree(conn: Conn): void {
    (this.freeSet ??= new Set()).add(conn);
  }

  removeFree(conn: Conn): void {
    if (this.freeSet?.delete(conn) && this.freeSet.size === 0) this.freeSet = null;
  }

  /** The free connection that has waited longest. */
  firstFree(): Conn | undefined {
    return first(this.freeSet);
  }

  private countPaused(): number {
    let n = 0;
    if (this.connSet !== null) for (const conn of this.connSet) if (conn.paused && conn.phase !== "pending") n++;
    return n;
  }

  /** The port's state as the control plane reports it. */
  snapshot(): PortState {
    return {
      port: this.number,
      active: this.listener !== null,
      pending: this.pending,
      authorized: this.authorized,
      bound: this.bound,
      waiting: this.agent ? 0 : (this.freeSet?.size ?? 0),
      paused: this.countPaused(),
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      rejectedPasscode: this.rejectedPasscode,
      rejectedTimeout: this.rejectedTimeout,
      rejectedLimit: this.rejectedLimit,
      rejectedThrottled: this.rejectedThrottled,
      rejectedOverload: this.rejectedOverload,
      heartbeatTimeouts: this.heartbeatTimeouts,
      rejectedTls: this.rejectedTls,
      staleBytes: this.staleBytes,
      recordMismatches: this.recordMismatches,
      lastActivity: this.lastActivity,
    };
  }
}

/** A mapping being served: its two ports and whether it is being torn down. */
export class MappingRuntime {
  readonly id: string;
  readonly kind: MappingKind;
  readonly port1: RelayPort;
  readonly port2: RelayPort;
  /** Set by close(): connections closing now must not look for new partners. */
  closing = false;

  constructor(mapping: RelayMapping) {
    this.id = mapping.id;
    this.kind = mapping.kind;
    const isPrivate = mapping.kind === "private";
    this.port1 = new RelayPort(this, mapping.port1, true, mapping.passcode1, mapping.maxConnections1, mapping.heartbeatThreshold1);
    this.port2 = isPrivate
      ? new RelayPort(this, mapping.port2, true, mapping.passcode2, mapping.maxConnections2, mapping.heartbeatThreshold2)
      : new RelayPort(this, mapping.port2, false, "", 0, 0);
    this.port1.other = this.port2;
    this.port2.other = this.port1;
  }

  get ports(): readonly [RelayPort, RelayPort] {
    return [this.port1, this.port2];
  }

  snapshot(): MappingState {
    return { id: this.id, kind: this.kind, port1: this.port1.snapshot(), port2: this.port2.snapshot() };
  }
}
