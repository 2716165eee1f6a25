// The life of an accepted connection up to relaying: pending cap, TLS handshake, passcode, maxconnections, heartbeats.
import type { Socket, SocketHandler } from "bun";
import { Conn } from "./conn.ts";
import type { RelayContext } from "./context.ts";
import type { RelayPort } from "./mapping.ts";
import type { Pairing } from "./pairing.ts";
import type { Pipe } from "./pipe.ts";
import { AUTHORIZED, BEAT, isBeat, PasscodeReader, passcodeMatches } from "./protocol.ts";

/**
 * The one handler object shared by every listener of a relay. A listener is created with its RelayPort as
 * `data`, which Bun hands to each accepted socket; `open` replaces it with the socket's own Conn.
 */
export function createSocketHandler(ctx: RelayContext, pipe: Pipe, pairing: Pairing): SocketHandler<Conn> {
  const { clock, log } = ctx;

  const passcode = (conn: Conn, chunk: Uint8Array, now: number): void => {
    const reader = (conn.reader ??= new PasscodeReader());
    const offset = reader.feed(chunk);
    if (offset < 0) return;
    const port = conn.port;
    conn.reader = null;
    if (!passcodeMatches(reader.passcode, port.passcode)) {
      port.rejectedPasscode++;
      const address = conn.socket.remoteAddress;
      ctx.guard.failed(address, now);
      if (ctx.guard.penalized(address, now)) {
        // A guessing address learns nothing until the deadline, and holds few slots meanwhile (see open).
        conn.tarpit = true;
        conn.paused = true;
        conn.socket.pause();
        return;
      }
      log.debug(`Port ${port.number}: wrong passcode from ${address}, connection closed.`);
      pipe.drop(conn);
      return;
    }
    // maxconnections counts authorized connections only, so idle strangers cannot lock agents out.
    if (port.authorized >= port.maxConnections) {
      port.rejectedLimit++;
      log.debug(`Port ${port.number}: ${port.authorized} of ${port.maxConnections} agent connections in use, connection closed.`);
      pipe.drop(conn);
      return;
    }
    if (conn.socket.write(AUTHORIZED) !== AUTHORIZED.length) {
      pipe.drop(conn);
      return;
    }
    conn.since = now;
    pairing.ready(conn);
    // Payload glued behind the passcode is relayed like any read.
    if (offset < chunk.length && conn.phase !== "closed") pipe.forward(conn, chunk.subarray(offset), now);
  };

  const heartbeat = (conn: Conn): void => {
    // Answered only when nothing is queued toward this connection, so the reply never lands inside relayed bytes.
    const peer = conn.peer;
    if (peer !== null && peer.peer === conn && peer.unsent !== null) return;
    const n = conn.socket.write(BEAT);
    // A partial BEAT would corrupt the agent's stream; none at all just means it is not reading.
    if (n > 0 && n < BEAT.length) pipe.drop(conn);
  };

  /** A penalized address may keep only a few connections in handshake on one port. */
  const throttled = (port: RelayPort, address: string): boolean => {
    if (!ctx.guard.penalized(address, clock.now())) return false;
    let held = 0;
    for (const conn of port.pendingConns()) if (conn.socket.remoteAddress === address && ++held >= ctx.guard.limits.pendingPerAddress) return true;
    return false;
  };

  return {
    open(socket) {
      const port = socket.data as unknown as RelayPort;
      if (!ctx.admit()) {
        port.rejectedOverload++;
        socket.close();
        return;
      }
      if (port.agent && throttled(port, socket.remoteAddress)) {
        port.rejectedThrottled++;
        socket.close();
        return;
      }
      // Connections that must still prove themselves are capped, so a flood of idle strangers stays cheap.
      // At the cap the oldest of them makes room rather than the newcomer: an agent sends its passcode as
      // soon as it is connected, so the oldest is the likeliest idle stranger, and a flood that keeps the
      // cap full can never keep agents out.
      if ((port.agent || port.tls) && port.pending >= ctx.maxPendingPerPort) {
        const oldest = port.oldestPending();
        if (oldest === undefined) {
          socket.close();
          return;
        }
        port.rejectedTimeout++;
        pipe.drop(oldest);
      }
      const conn = new Conn(socket as Socket<Conn>, port, clock.now());
      socket.data = conn;
      socket.setNoDelay(true);
      port.addConn(conn);
      port.addPending(conn);
      ctx.connections++;
      if (!port.agent && !port.tls) pairing.ready(conn);
    },

    handshake(socket, success) {
      const conn = socket.data;
      if (!(conn instanceof Conn) || conn.phase === "closed") return;
      if (!success) pipe.drop(conn);
      else if (!conn.port.agent) pairing.ready(conn);
    },

    data(socket, chunk) {
      const conn = socket.data;
      const now = clock.now();
      if (conn.phase === "pending") {
        passcode(conn, chunk, now);
        return;
      }
      if (conn.port.agent) {
        conn.since = now;
        if (isBeat(chunk)) {
          heartbeat(conn);
          return;
        }
      }
      pipe.forward(conn, chunk, now);
    },

    drain(socket) {
      const conn = socket.data;
      if (conn instanceof Conn) pipe.drain(conn);
    },

    close(socket) {
      const conn = socket.data;
      if (conn instanceof Conn) pipe.release(conn);
    },

    error(socket, error) {
      log.debug(`Relay connection from ${socket.remoteAddress}: ${error.message}`);
    },
  };
}
