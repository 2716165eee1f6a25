// Who relays with whom: public clients with free agent connections, private agents with the agent on the other port.
import { enter, type Conn } from "./conn.ts";
import type { RelayContext } from "./context.ts";
import type { Pipe } from "./pipe.ts";

export interface Pairing {
  /**
   * A connection is ready for a partner (an agent just authorized, a public client accepted): links it to
   * the oldest free connection of the other port, or queues it as free. A held public client is paused
   * and waits at most holdTimeoutMs (the sweep closes it).
   */
  ready(conn: Conn): void;
  /**
   * The partner of a live connection closed and everything it read has been written. Public: the pair is
   * over, so the connection is closed too and never reused (the agent dials a fresh one). Private: each
   * agent lives on its own, so it keeps its place and waits for (or links to) the next agent on the other port.
   */
  partnerGone(conn: Conn): void;
}

export function createPairing(ctx: RelayContext, pipe: Pipe): Pairing {
  const ready = (conn: Conn): void => {
    const partner = conn.port.other.firstFree();
    if (partner !== undefined) {
      pipe.link(conn, partner);
      return;
    }
    // An agent's `since` is its last read (heartbeat); a public client's is when its wait began.
    if (!conn.port.agent) conn.since = ctx.clock.now();
    enter(conn, "free");
    pipe.updateReading(conn);
  };

  return {
    ready,
    partnerGone(conn) {
      if (conn.port.mapping.kind === "public") pipe.drop(conn);
      else ready(conn);
    },
  };
}
