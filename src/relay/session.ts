// The life of an accepted connection up to relaying: admission, TLS upgrade, passcode, maxconnections, heartbeats.
import type { Socket, SocketHandler } from "bun";
import { createAdmission } from "./admission.ts";
import { Conn } from "./conn.ts";
import type { RelayContext } from "./context.ts";
import type { RelayPort } from "./mapping.ts";
import type { Pairing } from "./pairing.ts";
import type { Pipe } from "./pipe.ts";
import { AUTHORIZED, BEAT, isBeat, looksLikeTls, PasscodeReader, passcodeMatches } from "./protocol.ts";
import { RecordCutter, recordOverhead } from "./records.ts";

/** How often a TLS client on a plain port is reported, per port. */
const TLS_WARNING_MS = 60_000;

export interface SocketHandlers {
  /** Accepts on plain-TCP ports (dev mode): the accepted socket is the connection. */
  plain: SocketHandler<Conn>;
  /**
   * Accepts on TLS ports: the accepted socket is upgraded at once; its raw half keeps this handler and
   * sees the ciphertext (for the record lengths), the TLS half gets the connection's handler.
   */
  tlsAccept: SocketHandler<Conn>;
}

/**
 * The handlers shared by every listener of a relay. A listener is created with its RelayPort as `data`,
 * which Bun hands to each accepted socket; `open` replaces it with the socket's own Conn.
 */
export function createSocketHandlers(ctx: RelayContext, pipe: Pipe, pairing: Pairing): SocketHandlers {
  const { clock, log } = ctx;
  const admission = createAdmission(ctx, pipe.drop);

  /**
   * Connections that must still prove themselves (strangers) are bounded, so a flood of idle strangers
   * stays cheap; at a bound a stranger makes room rather than the newcomer, since the newcomer may be an
   * agent (see admission.ts). Only when no stranger is left to close is the newcomer closed.
   */
  const admit = (socket: Socket<Conn>, port: RelayPort): string | undefined => {
    const source = admission.admit(port, socket.remoteAddress);
    if (source === undefined) {
      port.rejectedOverload++;
      socket.close();
      return undefined;
    }
    socket.setNoDelay(true);
    return source;
  };

  /** @param source what admit() returned for the connection's socket. */
  const register = (conn: Conn, source: string): void => {
    conn.port.addPending(conn);
    ctx.connections++;
    admission.track(conn, source);
  };

  /** A TLS client on a plain port: not a guess at a passcode, but a Connector set up in dev mode. */
  const speaksTls = (conn: Conn, now: number): void => {
    const port = conn.port;
    conn.judged = true;
    port.rejectedTls++;
    if (now - port.tlsWarnedAt >= TLS_WARNING_MS || port.tlsWarnedAt === 0) {
      port.tlsWarnedAt = now;
      log.warn(
        `Port ${port.number}: an agent from ${conn.socket.remoteAddress} speaks TLS, but the Connector runs in dev mode (plain TCP); ` +
          `connection closed. Agents always dial TLS: set "dev": false with a certificate. Said once a minute.`,
      );
    }
    pipe.drop(conn);
  };

  /** Takes one read while the passcode is gathered; returns where the payload behind it starts, or -1. */
  const passcode = (conn: Conn, chunk: Uint8Array, now: number): number => {
    const port = conn.port;
    // Every pending connection is a stranger, with its record since accept.
    const stranger = conn.stranger!;
    if (stranger.reader === null && !port.tls && looksLikeTls(chunk)) {
      speaksTls(conn, now);
      return -1;
    }
    const reader = (stranger.reader ??= new PasscodeReader());
    const offset = reader.feed(chunk);
    if (offset < 0) return -1;
    stranger.reader = null;
    conn.judged = true;
    if (!passcodeMatches(reader.passcode, port.passcode)) {
      port.rejectedPasscode++;
      const address = conn.socket.remoteAddress;
      const key = admission.guessKey(conn);
      ctx.guard.failed(key, now);
      if (ctx.guard.penalized(key, now)) {
        // A guessing address learns nothing until the deadline on this port, and its tarpits make room first (see admission.ts).
        conn.tarpit = true;
        conn.paused = true;
        conn.socket.pause();
        return -1;
      }
      log.debug(`Port ${port.number}: wrong passcode from ${address}, connection closed.`);
      pipe.drop(conn);
      return -1;
    }
    // maxconnections counts authorized connections only, so idle strangers cannot lock agents out.
    if (port.authorized >= port.maxConnections) {
      port.rejectedLimit++;
      log.debug(`Port ${port.number}: ${port.authorized} of ${port.maxConnections} agent connections in use, connection closed.`);
      pipe.drop(conn);
      return -1;
    }
    if (conn.socket.write(AUTHORIZED) !== AUTHORIZED.length) {
      pipe.drop(conn);
      return -1;
    }
    conn.since = now;
    pairing.ready(conn);
    return offset;
  };

  const heartbeat = (conn: Conn): void => {
    // Answered only when nothing is queued toward this connection, so the reply never lands inside relayed bytes.
    const peer = conn.peer;
    if (peer !== null && peer.peer === conn && peer.unsent !== null) return;
    const n = conn.socket.write(BEAT);
    // A partial BEAT would corrupt the agent's stream; none at all just means it is not reading.
    if (n > 0 && n < BEAT.length) pipe.drop(conn);
  };

  /** One read (on TLS ports: one record) of an established connection. */
  const payload = (conn: Conn, chunk: Uint8Array, now: number): void => {
    const port = conn.port;
    if (port.agent) {
      conn.since = now;
      if (isBeat(chunk)) return heartbeat(conn);
      if (port.mapping.kind === "public" && conn.phase !== "linked") {
        // No client is bound to it: these bytes belong to nobody (the agent replays what a previous
        // client left unread), and must never reach the next client bound to this connection.
        port.staleBytes += chunk.length;
        log.debug(`Port ${port.number}: ${chunk.length} bytes from an agent connection no client is bound to, dropped.`);
        return;
      }
    }
    pipe.forward(conn, chunk, now);
  };

  const read = (conn: Conn, chunk: Uint8Array, now: number): void => {
    if (conn.phase !== "pending") return payload(conn, chunk, now);
    const offset = passcode(conn, chunk, now);
    // Payload glued behind the passcode is relayed like any read.
    if (offset >= 0 && offset < chunk.length && !conn.dropped) payload(conn, chunk.subarray(offset), now);
  };

  /** What plain and TLS connections share once accepted. */
  const established: SocketHandler<Conn> = {
    data(socket, chunk) {
      const conn = socket.data;
      if (conn.dropped || conn.tarpit) return;
      const now = clock.now();
      const cutter = conn.cutter;
      if (cutter === null) return read(conn, chunk, now);
      cutter.plaintext(chunk);
      for (let record = cutter.next(); record !== null; record = cutter.next()) {
        read(conn, record, now);
        if (conn.dropped || conn.tarpit) return;
      }
      if (cutter.mismatched) {
        cutter.mismatched = false;
        conn.port.recordMismatches++;
        log.warn(`Port ${conn.port.number}: the TLS record lengths of a connection from ${socket.remoteAddress} did not match its data; relaying it read by read.`);
      }
      conn.rest(cutter);
    },

    drain(socket) {
      const conn = socket.data;
      if (conn instanceof Conn) pipe.drain(conn);
    },

    end(socket) {
      const conn = socket.data;
      if (conn instanceof Conn && !conn.readEnded) pipe.ended(conn);
    },

    close(socket) {
      const conn = socket.data;
      if (conn instanceof Conn) pipe.release(conn);
    },

    error(socket, error) {
      log.debug(`Relay connection from ${socket.remoteAddress}: ${error.message}`);
    },
  };

  const secure: SocketHandler<Conn> = {
    ...established,
    handshake(socket, success) {
      const conn = socket.data;
      if (!(conn instanceof Conn) || conn.phase === "closed") return;
      if (!success) return pipe.drop(conn);
      const version = socket.getTLSVersion();
      const cutter = conn.cutter;
      if (cutter !== null) {
        cutter.handshakeDone(version, recordOverhead(version, socket.getCipher()?.name ?? ""));
        conn.rest(cutter);
      }
      if (!conn.port.agent) pairing.ready(conn);
    },
  };

  return {
    plain: {
      ...established,
      open(socket) {
        const port = socket.data as unknown as RelayPort;
        const source = admit(socket, port);
        if (source === undefined) return;
        const conn = new Conn(socket, port, clock.now());
        socket.data = conn;
        register(conn, source);
        if (!port.agent) pairing.ready(conn);
      },
    },

    tlsAccept: {
      open(socket) {
        const port = socket.data as unknown as RelayPort;
        const tls = ctx.tls;
        if (tls === undefined) return void socket.close();
        const source = admit(socket, port);
        if (source === undefined) return;
        const [raw, upgraded] = socket.upgradeTLS<Conn>({ tls, socket: secure });
        const conn = new Conn(upgraded, port, clock.now());
        conn.cutter = new RecordCutter();
        upgraded.data = conn;
        raw.data = conn;
        register(conn, source);
      },
      // The raw half: ciphertext, read before it is decrypted for the TLS half.
      data(socket, chunk) {
        const conn = socket.data;
        if (conn instanceof Conn) conn.cutterForRead()?.ciphertext(chunk);
      },
      error(socket, error) {
        log.debug(`Relay connection from ${socket.remoteAddress}: ${error.message}`);
      },
    },
  };
}
