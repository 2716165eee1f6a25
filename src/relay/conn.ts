// Per-connection state, kept in socket.data: one small flat object per socket and no closures, so idle connections stay cheap.
import type { Socket } from "bun";
import type { PasscodeReader } from "./protocol.ts";
import type { RelayPort } from "./mapping.ts";
import type { RecordCutter } from "./records.ts";

/**
 * Where a connection is in its life:
 * - pending: accepted, still in its TLS handshake or (agent ports) before its passcode;
 * - free: ready but without a partner (an idle agent connection, a held public client, a lone private agent);
 * - linked: relaying to or from `peer`;
 * - closed: gone; kept only while a partner still flushes the bytes it read.
 */
export type Phase = "pending" | "free" | "linked" | "closed";

/** One accepted socket of a relay port. */
export class Conn {
  phase: Phase = "pending";
  /**
   * The time the connection's deadline counts from: accept while pending, the start of the wait for a
   * held public client, the last read (or the end of a pause in reading) for an authorized agent connection.
   */
  since: number;
  /** Passcode being gathered; only while pending on an agent port. */
  reader: PasscodeReader | null = null;
  /** The connection this one relays with; still set after the peer closed, until its bytes are flushed. */
  peer: Conn | null = null;
  /** Reads (TLS: records) from this connection not yet written onward, oldest first; each is written as one. */
  unsent: Uint8Array[] | null = null;
  unsentBytes = 0;
  /** Reading is paused (backpressure, a held public client, or shutdown). */
  paused = false;
  /** A wrong passcode from a guessing address: left unanswered until the handshake deadline closes it. */
  tarpit = false;
  /** Closing was asked for; what it reads from now on is ignored. */
  dropped = false;
  /** The peer ended its writes (FIN); with a public partner, the way back stays open (half-close). */
  readEnded = false;
  /** This side's write half was shut down after the partner's FIN and the flush of what it had sent. */
  writeEnded = false;
  /** TLS ports: cuts what the socket reads into the records the client wrote (see records.ts). */
  cutter: RecordCutter | null = null;

  constructor(
    readonly socket: Socket<Conn>,
    readonly port: RelayPort,
    now: number,
  ) {
    this.since = now;
  }
}

/**
 * Moves a connection to its next phase and keeps its port's counters in step; every phase change goes
 * through here so that pending, authorized, bound and the free queue are never out of date.
 */
export function enter(conn: Conn, next: Phase): void {
  const port = conn.port;
  const prev = conn.phase;
  if (prev === next) return;
  if (prev === "pending") {
    port.removePending(conn);
    if (port.agent && next !== "closed") port.authorized++;
  } else if (prev === "linked") port.bound--;
  else if (prev === "free") port.removeFree(conn);
  if (next === "linked") port.bound++;
  else if (next === "free") port.addFree(conn);
  else if (next === "closed" && prev !== "pending" && port.agent) port.authorized--;
  conn.phase = next;
}
