// One coarse periodic pass enforces every deadline (handshake, hold, heartbeat), so reads never touch a timer.
import type { Conn } from "./conn.ts";
import type { RelayContext } from "./context.ts";
import type { RelayPort } from "./mapping.ts";
import type { Pipe } from "./pipe.ts";

export interface Sweeper {
  /** Runs while any mapping is open: starts the timer for the first mapping, stops it after the last. */
  update(): void;
  /** Checks every connection's deadline now. */
  sweep(): void;
}

/**
 * The pass runs every `sweepMs(ctx)` milliseconds, so a deadline is enforced up to that late: at most a
 * tenth of the handshake and hold timeouts, and a second at most for heartbeat thresholds.
 */
export function sweepMs(ctx: RelayContext): number {
  return Math.max(5, Math.min(1000, Math.floor(Math.min(ctx.handshakeTimeoutMs, ctx.holdTimeoutMs) / 10)));
}

export function createSweeper(ctx: RelayContext, pipe: Pipe): Sweeper {
  let cancel: (() => void) | null = null;

  const check = (port: RelayPort, conn: Conn, now: number): void => {
    // Closed earlier in this pass (the partner of one dropped before it).
    if (conn.phase === "closed") return;
    const age = now - conn.since;
    const peer = conn.peer;
    if (conn.phase === "linked" && peer !== null && (conn.readEnded || peer.readEnded)) {
      // A half-closed public pair lives while traffic flows the other way, and ends after halfCloseIdleMs without.
      if (now - Math.max(conn.since, peer.since) < ctx.halfCloseIdleMs || conn.dropped) return;
      pipe.drop(conn);
      if (peer.phase !== "closed") pipe.drop(peer);
    } else if (conn.phase === "pending") {
      if (age < ctx.handshakeTimeoutMs) return;
      if (!conn.tarpit) port.rejectedTimeout++; // a tarpit was counted for its wrong passcode already
      pipe.drop(conn);
    } else if (!port.agent) {
      // A public client held while no agent connection is free; counted as refused for timing out.
      if (conn.phase !== "free" || age < ctx.holdTimeoutMs) return;
      port.rejectedTimeout++;
      pipe.drop(conn);
    } else if (port.heartbeatMs > 0 && age >= port.heartbeatMs && !conn.paused) {
      // A connection the relay does not read (backpressure, a held private payload) is not silent.
      port.heartbeatTimeouts++;
      ctx.log.debug(`Port ${port.number}: no heartbeat for ${age} ms, agent connection closed.`);
      pipe.drop(conn);
    }
  };

  const checkPort = (port: RelayPort, now: number): void => {
    for (const conn of port.conns) check(port, conn, now);
  };

  const sweep = (): void => {
    const now = ctx.clock.now();
    for (const mapping of ctx.mappings.values()) {
      checkPort(mapping.port1, now);
      checkPort(mapping.port2, now);
    }
  };

  return {
    sweep,
    update() {
      if (ctx.mappings.size > 0 && cancel === null) cancel = ctx.clock.every(sweepMs(ctx), sweep);
      else if (ctx.mappings.size === 0 && cancel !== null) {
        cancel();
        cancel = null;
      }
    },
  };
}
