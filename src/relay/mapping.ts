// The live state of one mapping: its two ports, their connections, pairing queues and counters.
import type { TCPSocketListener } from "bun";
import type { Conn, Phase } from "./conn.ts";
import { ConnQueue } from "./queue.ts";
import type { MappingKind, MappingState, PortState, RelayMapping } from "./types.ts";

const NONE: readonly Conn[] = Object.freeze([]);

/** One listening port of a mapping: what it accepts, who is connected, and what it has counted. */
export class RelayPort {
  listener: TCPSocketListener<Conn> | null = null;
  /** Whether the current listener speaks TLS (a reload may change it for listeners bound later). */
  tls = false;
  /** Cancels the bind retry while the port cannot be bound. */
  stopRetry: (() => void) | null = null;
  // The queues exist only while they hold a connection: most of a large deployment's ports are idle.
  private pendingQueue: ConnQueue | null = null;
  private freeQueue: ConnQueue | null = null;
  private linkedQueue: ConnQueue | null = null;
  other!: RelayPort;

  authorized = 0;
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

  /** Every open connection accepted on this port, as a copy: the caller may close them as it goes. */
  get conns(): readonly Conn[] {
    if (this.pendingQueue === null && this.freeQueue === null && this.linkedQueue === null) return NONE;
    const all: Conn[] = [];
    this.pendingQueue?.copyTo(all);
    this.freeQueue?.copyTo(all);
    this.linkedQueue?.copyTo(all);
    return all;
  }

  /** A connection accepted on this port: pending until its handshake is done. */
  addPending(conn: Conn): void {
    this.join(conn, "pending");
  }

  /** Files a connection under the phase it enters (see enter() in conn.ts); a closed one is in no queue. */
  join(conn: Conn, phase: Phase): void {
    if (phase === "pending") (this.pendingQueue ??= new ConnQueue()).push(conn);
    else if (phase === "free") (this.freeQueue ??= new ConnQueue()).push(conn);
    else if (phase === "linked") (this.linkedQueue ??= new ConnQueue()).push(conn);
  }

  /** Takes a connection out of the queue of the phase it leaves. */
  leave(conn: Conn, phase: Phase): void {
    if (phase === "pending") this.pendingQueue = without(this.pendingQueue, conn);
    else if (phase === "free") this.freeQueue = without(this.freeQueue, conn);
    else if (phase === "linked") this.linkedQueue = without(this.linkedQueue, conn);
  }

  /** Connections still in their handshake (TLS, passcode). */
  get pending(): number {
    return this.pendingQueue?.size ?? 0;
  }

  /** The connections still in their handshake, oldest first. */
  pendingConns(): readonly Conn[] {
    if (this.pendingQueue === null) return NONE;
    const all: Conn[] = [];
    this.pendingQueue.copyTo(all);
    return all;
  }

  /** Connections relaying with a partner on the other port (public port2: bound clients). */
  get bound(): number {
    return this.linkedQueue?.size ?? 0;
  }

  /** The free connection that has waited longest: an idle agent, a held public client, a lone private agent. */
  firstFree(): Conn | undefined {
    return this.freeQueue?.head ?? undefined;
  }

  /** The listener is bound and accepting. */
  get active(): boolean {
    return this.listener !== null;
  }

  /** Public clients held while no agent connection is free (public port2). */
  get waiting(): number {
    return this.agent ? 0 : (this.freeQueue?.size ?? 0);
  }

  /** Established connections the relay is not reading now. */
  get paused(): number {
    return pausedIn(this.freeQueue) + pausedIn(this.linkedQueue);
  }

  /** The port's state as the control plane reports it. */
  snapshot(): PortState {
    return {
      port: this.number,
      active: this.active,
      pending: this.pending,
      authorized: this.authorized,
      bound: this.bound,
      waiting: this.waiting,
      paused: this.paused,
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

function pausedIn(queue: ConnQueue | null): number {
  let n = 0;
  for (let conn = queue?.head ?? null; conn !== null; conn = conn.queueNext) if (conn.paused) n++;
  return n;
}

function without(queue: ConnQueue | null, conn: Conn): ConnQueue | null {
  queue?.remove(conn);
  return queue === null || queue.size === 0 ? null : queue;
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
