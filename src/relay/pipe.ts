// The copy between two connections: every relayed byte passes here, and so do backpressure and the one close of each connection.
import { Conn, enter } from "./conn.ts";
import type { RelayContext } from "./context.ts";

/**
 * Backpressure on Bun sockets: socket.write() hands bytes straight to the kernel and returns how many
 * it took (fewer when the socket buffer is full, -1 once closed); Bun buffers nothing. So when a write
 * falls short, the rest stays in the source's `unsent` queue and the source is paused: its socket stops
 * reading, its kernel buffer fills and TCP flow control reaches the sender. When the destination's
 * `drain` fires, the queue is written and the source resumes. A pair therefore holds at most one read
 * per direction in user space, whatever the speeds (a private agent without a partner: up to
 * privateHoldBytes; a peer that resets its connection: what its receive buffer held, which Bun hands
 * over even while paused). Bun hands each `data` callback a buffer of its own
 * (test/relay/bun-sockets.test.ts checks this), so a queued read is kept without a copy.
 */
export interface Pipe {
  /** Relays one read of `from`: written to its peer at once when the way is clear, otherwise queued. */
  forward(from: Conn, chunk: Uint8Array, now: number): void;
  /** `to` can take more: writes what its peer read for it, then lets the peer read again. */
  drain(to: Conn): void;
  /** Makes two ready connections partners and writes what each read while it had none. */
  link(a: Conn, b: Conn): void;
  /** Pauses or resumes reading `conn` according to what it holds and where it is. */
  updateReading(conn: Conn): void;
  /** The peer of `conn` ended its writes (FIN): relayed as half-close in a public pair, otherwise a close. */
  ended(conn: Conn): void;
  /** The socket of `conn` closed: forgets it, exactly once, and settles its partner. */
  release(conn: Conn): void;
  /** Closes a connection: FIN after what the kernel already holds; its close event releases it. */
  drop(conn: Conn): void;
}

/**
 * @param partnerGone called for a live connection whose partner closed, once every byte the partner
 *   read has been written to it (public: close it; private: find it a new partner).
 */
export function createPipe(ctx: RelayContext, partnerGone: (conn: Conn) => void): Pipe {
  const { clock } = ctx;

  const mayRead = (conn: Conn): boolean => {
    if (ctx.stopping || conn.phase === "closed") return false;
    if (conn.unsentBytes === 0) return true;
    // Backpressure: the partner cannot take more.
    if (conn.peer?.phase === "linked") return false;
    // No live partner yet: a private agent or a held public client is read on up to its bound.
    const bound = conn.port.mapping.kind === "private" ? ctx.privateHoldBytes : conn.port.agent ? 0 : ctx.publicHoldBytes;
    return conn.unsentBytes < bound;
  };

  const updateReading = (conn: Conn): void => {
    if (mayRead(conn)) {
      if (conn.paused) {
        conn.paused = false;
        conn.socket.resume();
        // Silence is counted only while the connection is read: what it sent meanwhile waits in the kernel.
        if (conn.port.agent && conn.phase !== "pending") conn.since = clock.now();
      }
    } else if (!conn.paused) {
      conn.paused = true;
      conn.socket.pause();
    }
  };

  const hold = (from: Conn, chunk: Uint8Array): void => {
    (from.unsent ??= []).push(chunk);
    from.unsentBytes += chunk.length;
    if (!from.paused && !mayRead(from)) updateReading(from);
  };

  /** Writes `from`'s queue to `to` in order, one write per queued read, until the socket is full. */
  const flush = (from: Conn, to: Conn): void => {
    const queue = from.unsent!;
    const now = clock.now();
    while (queue.length > 0) {
      const chunk = queue[0]!;
      const n = to.socket.write(chunk);
      if (n > 0) {
        from.unsentBytes -= n;
        to.port.bytesOut += n;
        to.port.lastActivity = now;
      }
      if (n < chunk.length) {
        if (n > 0) queue[0] = chunk.subarray(n);
        return;
      }
      queue.shift();
    }
    from.unsent = null;
  };

  /** Everything `from` read for `to` is written. */
  const delivered = (from: Conn, to: Conn): void => {
    if (from.phase === "closed") {
      from.peer = null;
      to.peer = null;
      if (ctx.stopping || to.port.mapping.closing) drop(to);
      else partnerGone(to);
      return;
    }
    if (from.readEnded) {
      // Half-close, as a TCP proxy does: `from` sends no more, so `to` hears its FIN; the way back stays open.
      if (!to.writeEnded && to.phase !== "closed") {
        to.writeEnded = true;
        to.socket.shutdown();
      }
      if (to.readEnded && to.unsent === null) {
        drop(from);
        drop(to);
      }
      return;
    }
    updateReading(from);
  };

  const drop = (conn: Conn): void => {
    conn.dropped = true;
    conn.socket.close();
  };

  return {
    forward(from, chunk, now) {
      from.port.bytesIn += chunk.length;
      from.port.lastActivity = now;
      from.since = now;
      const to = from.peer;
      if (from.unsent === null && to !== null && to.phase === "linked") {
        const n = to.socket.write(chunk);
        if (n > 0) {
          to.port.bytesOut += n;
          to.port.lastActivity = now;
        }
        if (n === chunk.length) return;
        if (n > 0) chunk = chunk.subarray(n);
      }
      hold(from, chunk);
    },

    drain(to) {
      const from = to.peer;
      if (from === null || from.peer !== to) return;
      if (from.unsent !== null) {
        flush(from, to);
        if (from.unsent !== null) return;
      }
      delivered(from, to);
      if (ctx.stopping && to.phase !== "closed") drop(to);
    },

    link(a, b) {
      a.peer = b;
      b.peer = a;
      enter(a, "linked");
      enter(b, "linked");
      if (a.unsent !== null) flush(a, b);
      if (b.unsent !== null) flush(b, a);
      updateReading(a);
      updateReading(b);
    },

    updateReading,

    ended(conn) {
      conn.readEnded = true;
      const peer = conn.peer;
      // Not relaying to a live public partner: a handshake that stops, a held client that leaves, an idle
      // agent connection, or a private agent going away (each private connection lives on its own).
      if (conn.phase !== "linked" || peer === null || peer.phase !== "linked" || conn.port.mapping.kind === "private") return drop(conn);
      if (conn.unsent === null) delivered(conn, peer);
    },

    release(conn) {
      if (conn.phase === "closed") return;
      enter(conn, "closed");
      ctx.connections--;
      const partner = conn.peer;
      if (partner !== null && partner.peer === conn && partner.phase === "linked") {
        // The partner stays linked to this closed connection until what it read is written out.
        if (conn.unsent === null) delivered(conn, partner);
        else updateReading(partner);
      } else {
        conn.peer = null;
        conn.unsent = null;
        conn.unsentBytes = 0;
      }
      if (ctx.connections === 0) ctx.onAllClosed?.();
    },

    drop,
  };
}
