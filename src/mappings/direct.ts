// The direct-connection rendezvous: two agents swap addresses through the Connector, then talk peer to peer.
import type { Clock } from "../clock.ts";
import { ConnectorError } from "../errors.ts";

/** What one agent says about itself on /api/v2/direct. */
export interface DirectCaller {
  ip: string;
  /** 1-65535. */
  port: number;
  certificate: string;
  /** The address the request came from (X-Forwarded-For, else the socket peer). */
  remoteip: string;
}

export type RendezvousResult = { status: "wait" } | { status: "ok"; peer: DirectCaller };

export interface Rendezvous {
  /** Registers `caller` for `id` and returns the other side's details once it has called too. */
  call(id: string, caller: DirectCaller): RendezvousResult;
  forget(id: string): void;
  /** Rendezvous with a side still remembered. */
  readonly size: number;
}

interface Side {
  caller: DirectCaller;
  key: string;
  seen: number;
}

export const RENDEZVOUS_EXPIRY_MS = 5 * 60_000;

/**
 * A caller is recognised by its ip, port and certificate, so polling again never returns its own
 * details; a side that has not called for five minutes is forgotten.
 */
export function createRendezvous(clock: Clock): Rendezvous {
  const pending = new Map<string, Side[]>();
  let pruned = clock.now();
  /** Forgets, at most once per expiry period, the rendezvous whose sides have all expired, so memory follows recent callers. */
  const prune = (now: number) => {
    if (now - pruned < RENDEZVOUS_EXPIRY_MS) return;
    pruned = now;
    for (const [id, sides] of pending) if (sides.every((side) => now - side.seen >= RENDEZVOUS_EXPIRY_MS)) pending.delete(id);
  };
  return {
    call(id, caller) {
      const now = clock.now();
      prune(now);
      const key = `${caller.ip}\u0000${caller.port}\u0000${caller.certificate}`;
      const sides = (pending.get(id) ?? []).filter((side) => now - side.seen < RENDEZVOUS_EXPIRY_MS);
      let mine = sides.find((side) => side.key === key);
      if (mine === undefined) {
        if (sides.length >= 2) {
          pending.set(id, sides);
          throw new ConnectorError("conflict", "Both sides of this direct connection are already known.");
        }
        mine = { caller, key, seen: now };
        sides.push(mine);
      }
      mine.caller = caller;
      mine.seen = now;
      pending.set(id, sides);
      const peer = sides.find((side) => side !== mine);
      return peer === undefined ? { status: "wait" } : { status: "ok", peer: peer.caller };
    },
    forget(id) {
      pending.delete(id);
    },
    get size() {
      return pending.size;
    },
  };
}
