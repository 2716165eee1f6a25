// Per-connection state, kept in socket.data: one small flat object per socket and no closures, so idle connections stay cheap.
import type { Socket } from "bun";
import type { PasscodeReader } from "./protocol.ts";
import type { Holder } from "./strangers.ts";
import type { RelayPort } from "./mapping.ts";
import { RecordCutter } from "./records.ts";

/**
 * Where a connection is in its life:
 * - pending: accepted, still in its TLS handshake or (agent ports) before its passcode;
 * - free: ready but without a partner (an idle agent connection, a held public client, a lone private agent);
 * - linked: relaying to or from `peer`;
 * - closed: gone; kept only while a partner still flushes the bytes it read.
 */
export type Phase = "pending" | "free" | "linked" | "closed";

/** Told when a connection becomes or stops being a stranger (admission.ts keeps their count). */
export interface StrangerWatch {
  moved(conn: Conn, prev: Phase): void;
}

/**
 * A stranger has not proved itself yet: an agent connection before its passcode, any connection in its
 * TLS handshake, a public client held while no agent connection is free.
 */
export function isStranger(conn: Conn): boolean {
  return conn.phase === "pending" || (conn.phase === "free" && !conn.port.agent);
}

/**
 * What a connection carries only while it is a stranger (admission.ts, strangers.ts): most connections are
 * authorized agents, which then carry none of it. A connection never becomes a stranger again.
 */
export class Stranger {
  /** Passcode being gathered; only while pending on an agent port. */
  reader: PasscodeReader | null = null;
  /** The strangers of its source, and its neighbours there, oldest first (strangers.ts). */
  holder: Holder | null = null;
  prev: Conn | null = null;
  next: Conn | null = null;

  constructor(
    /** Told when it stops being a stranger. */
    readonly watch: StrangerWatch,
    /** The source it is accounted under (an address, or an IPv6 /64), read once at accept. */
    public source: string,
  ) {}
}

// Flags of a connection, kept in one number: an idle connection then costs a few slots instead of one per flag.
const PAUSED = 1;
const TARPIT = 2;
const DROPPED = 4;
const READ_ENDED = 8;
const WRITE_ENDED = 16;
const JUDGED = 32;
/** Bits above the flags: the record overhead a TLS connection's next cutter starts with (records.ts), 0 for none. */
const OVERHEAD_SHIFT = 8;
const FLAG_BITS = (1 << OVERHEAD_SHIFT) - 1;

/** One accepted socket of a relay port. */
export class Conn {
  phase: Phase = "pending";
  /**
   * The time the connection's deadline counts from: accept while pending, the start of the wait for a
   * held public client, the last read (or the end of a pause in reading) for an authorized agent connection.
   */
  since: number;
  /** The connection this one relays with; still set after the peer closed, until its bytes are flushed. */
  peer: Conn | null = null;
  /** Reads (TLS: records) from this connection not yet written onward, oldest first; each is written as one. */
  unsent: Uint8Array[] | null = null;
  unsentBytes = 0;
  private flags = 0;
  /**
   * TLS ports: cuts what the socket reads into the records the client wrote (see records.ts). Held only
   * while it holds something (`rest()`); in between the connection keeps its overhead alone.
   */
  cutter: RecordCutter | null = null;
  /** Set at accept, dropped once it has proved itself: what only a stranger needs. */
  stranger: Stranger | null = null;
  /** Its neighbours in its port's queue of the connections in the same phase (mapping.ts), oldest first. */
  queuePrev: Conn | null = null;
  queueNext: Conn | null = null;

  constructor(
    readonly socket: Socket<Conn>,
    readonly port: RelayPort,
    now: number,
  ) {
    this.since = now;
  }

  private setFlag(flag: number, on: boolean): void {
    this.flags = on ? this.flags | flag : this.flags & ~flag;
  }

  /** The cutter for a read of the raw half: the one held, or a new one with the overhead kept; null when none cuts. */
  cutterForRead(): RecordCutter | null {
    if (this.cutter !== null) return this.cutter;
    const overhead = this.flags >>> OVERHEAD_SHIFT;
    return overhead === 0 ? null : (this.cutter = new RecordCutter(overhead));
  }

  /** Drops the cutter if it holds nothing, keeping what its successor needs. */
  rest(cutter: RecordCutter): void {
    if (!cutter.idle) return;
    this.cutter = null;
    this.flags = (this.flags & FLAG_BITS) | (cutter.cutAt << OVERHEAD_SHIFT);
  }

  /** Reading is paused (backpressure, a held public client, or shutdown). */
  get paused(): boolean {
    return (this.flags & PAUSED) !== 0;
  }
  set paused(on: boolean) {
    this.setFlag(PAUSED, on);
  }

  /** A wrong passcode from a guessing address: left unanswered until the handshake deadline closes it. */
  get tarpit(): boolean {
    return (this.flags & TARPIT) !== 0;
  }
  set tarpit(on: boolean) {
    this.setFlag(TARPIT, on);
  }

  /** Closing was asked for; what it reads from now on is ignored. */
  get dropped(): boolean {
    return (this.flags & DROPPED) !== 0;
  }
  set dropped(on: boolean) {
    this.setFlag(DROPPED, on);
  }

  /** The peer ended its writes (FIN); with a public partner, the way back stays open (half-close). */
  get readEnded(): boolean {
    return (this.flags & READ_ENDED) !== 0;
  }
  set readEnded(on: boolean) {
    this.setFlag(READ_ENDED, on);
  }

  /** This side's write half was shut down after the partner's FIN and the flush of what it had sent. */
  get writeEnded(): boolean {
    return (this.flags & WRITE_ENDED) !== 0;
  }
  set writeEnded(on: boolean) {
    this.setFlag(WRITE_ENDED, on);
  }

  /**
   * Its handshake was read and answered (a passcode checked, TLS on a plain port) or it was already
   * counted against its address: closing it says nothing more about a flood from that address.
   */
  get judged(): boolean {
    return (this.flags & JUDGED) !== 0;
  }
  set judged(on: boolean) {
    this.setFlag(JUDGED, on);
  }
}

/**
 * Moves a connection to its next phase and keeps its port's counters in step; every phase change goes
 * through here so that the port's queues and its authorized and bound counts are never out of date.
 */
export function enter(conn: Conn, next: Phase): void {
  const port = conn.port;
  const prev = conn.phase;
  if (prev === next) return;
  const stranger = isStranger(conn);
  port.leave(conn, prev);
  if (prev === "pending" && port.agent && next !== "closed") port.authorized++;
  port.join(conn, next);
  if (next === "closed" && prev !== "pending" && port.agent) port.authorized--;
  conn.phase = next;
  if (stranger !== isStranger(conn)) conn.stranger?.watch.moved(conn, prev);
}
