// Admission of accepted connections: strangers are bounded in total and per source address, and room is made at the
// expense of flooders, the address holding the most strangers and guessers' tarpits — never of agents or bound pairs.
import { isStranger, Stranger, type Conn, type Phase, type StrangerWatch } from "./conn.ts";
import type { RelayContext } from "./context.ts";
import { createGuard, type PenaltyLimits } from "./guard.ts";
import type { RelayPort } from "./mapping.ts";
import { sourceOf, Strangers, type Holder } from "./strangers.ts";

/** How many strangers (connections still in their handshake, held public clients) the relay keeps. */
export interface StrangerLimits {
  /** Process-wide, at most. Default 16,384. */
  max: number;
  /** Share of the descriptors the process may still open (counting their own) strangers may hold. Default 0.5. */
  share: number;
  /** Share of the process-wide bound one source address may hold. Default 0.25. */
  perAddress: number;
}

/** When an address counts as flooding (connections that never finish their handshake) and what it may hold then. */
export interface FloodLimits extends PenaltyLimits {
  /** Strangers a flooding address may hold on one port. Default 8. */
  pendingPerPort: number;
  /** Strangers a flooding address may hold process-wide. Default 64. */
  pending: number;
}

export const DEFAULT_STRANGER_LIMITS: StrangerLimits = { max: 16_384, share: 0.5, perAddress: 0.25 };
export const DEFAULT_FLOOD_LIMITS: FloodLimits = { failures: 100, windowMs: 60_000, penaltyMs: 300_000, pendingPerPort: 8, pending: 64 };

const REPORT_EVERY_MS = 60_000;

const guessKey = (address: string, port: RelayPort): string => `${address} ${port.number}`;

export interface Admission extends StrangerWatch {
  /** Makes room for a connection from `address` accepted on `port`: its source, or undefined when there is none to make (close it). */
  admit(port: RelayPort, address: string): string | undefined;
  /** Counts an accepted connection from `source` (as admit gave it) as a stranger until it proves itself. */
  track(conn: Conn, source: string): void;
  /** The key the passcode-guessing guard counts under: an address guessing on one port pays on that port only. */
  guessKey(conn: Conn): string;
}

/** @param drop closes a connection (its close event releases it). */
export function createAdmission(ctx: RelayContext, drop: (conn: Conn) => void): Admission {
  const { clock, log, strangerLimits: limits, floodLimits } = ctx;
  const floods = createGuard(floodLimits);
  const flooding = (address: string) => floods.penalized(address, clock.now());
  const strangers = new Strangers(flooding);
  let evicted = 0;
  let reportedAt = -Infinity;

  const bound = (): number => Math.min(limits.max, Math.floor(limits.share * (strangers.count + ctx.freeDescriptors())));
  const addressShare = (): number => Math.max(1, Math.floor(bound() * limits.perAddress));
  const perAddress = (address: string): number => (flooding(address) ? Math.min(addressShare(), floodLimits.pending) : addressShare());

  /** A connection that never finished its handshake counts against its address; enough of them make it a flooder. */
  const idle = (conn: Conn): void => {
    if (conn.judged || conn.stranger === null) return;
    conn.judged = true;
    const address = conn.stranger.source;
    const now = clock.now();
    const was = floods.penalized(address, now);
    floods.failed(address, now);
    if (was || !floods.penalized(address, now)) return;
    strangers.reweigh(address);
    log.warn(
      `Connections from ${address} keep ending without a handshake (${floodLimits.failures} within ${floodLimits.windowMs / 1000} s): ` +
        `for ${floodLimits.penaltyMs / 1000} s its connections make room first and it may hold ${floodLimits.pendingPerPort} per port.`,
    );
  };

  /** Said at most once a minute, with the count since the last time. */
  const report = (): void => {
    const now = clock.now();
    if (now - reportedAt < REPORT_EVERY_MS) return;
    reportedAt = now;
    log.warn(
      `${evicted} connection(s) still in their handshake or waiting for an agent were closed to make room for newer ones since the last report ` +
        `(${strangers.count} held now; at most ${bound()} in all and ${addressShare()} per address). Said once a minute.`,
    );
    evicted = 0;
  };

  const evict = (conn: Conn): void => {
    strangers.remove(conn);
    const port = conn.port;
    if (conn.tarpit) port.rejectedThrottled++;
    else port.rejectedTimeout++;
    idle(conn);
    drop(conn);
    evicted++;
    report();
  };

  /** Tarpits are the cheapest to drop (their answer is known), then the oldest. */
  const oldest = (conns: Iterable<Conn>): Conn | undefined => {
    let first: Conn | undefined;
    for (const conn of conns) {
      if (conn.tarpit) return conn;
      first ??= conn;
    }
    return first;
  };

  /** The strangers of `holder` on `port`, cheapest to drop first; built only for guessing or flooding sources. */
  const on = (holder: Holder, port: RelayPort): Conn[] => {
    const here = [...holder].filter((conn) => conn.port === port);
    return [...here.filter((conn) => conn.tarpit), ...here.filter((conn) => !conn.tarpit)];
  };

  /** On a port at its handshake cap: a connection of the address holding the most strangers, its tarpits first. */
  const victimOn = (port: RelayPort): Conn | undefined => {
    let victim: Conn | undefined;
    let best = -1;
    for (const conn of port.pendingConns()) {
      const holder = strangers.holder(conn.stranger!.source);
      if (holder === undefined || !holder.has(conn)) continue;
      const score = holder.weight * 2 + (conn.tarpit ? 1 : 0);
      if (score > best) {
        best = score;
        victim = conn;
      }
    }
    return victim;
  };

  /**
   * The newcomer's own source makes room first: a guesser from its tarpits on the port, a flooder and a
   * crowd from their cheapest. Down to the bound, not by one: a source that has just started flooding may
   * hold far more.
   */
  const ownRoom = (port: RelayPort, address: string): void => {
    const holder = strangers.holder(address);
    if (holder === undefined) return;
    if (port.agent && ctx.guard.penalized(guessKey(address, port), clock.now())) {
      const tarpits = on(holder, port).filter((conn) => conn.tarpit);
      while (tarpits.length >= ctx.guard.limits.pendingPerAddress) evict(tarpits.shift()!);
    }
    if (flooding(address)) {
      const here = on(holder, port);
      while (here.length >= floodLimits.pendingPerPort) evict(here.shift()!);
    }
    while (holder.size > 0 && holder.size >= perAddress(address)) evict(oldest(holder)!);
  };

  const admission: Admission = {
    admit(port, address) {
      const source = sourceOf(address);
      ownRoom(port, source);
      if ((port.agent || port.tls) && port.pending >= ctx.maxPendingPerPort) {
        const victim = victimOn(port);
        if (victim !== undefined) evict(victim);
      }
      const room = ctx.admit();
      if (!room || strangers.count >= bound()) {
        const heaviest = strangers.heaviest();
        if (heaviest === undefined) return room ? source : undefined;
        evict(oldest(heaviest)!);
      }
      return source;
    },

    track(conn, source) {
      conn.stranger = new Stranger(admission, source);
      strangers.add(conn);
    },

    moved(conn: Conn, prev: Phase) {
      if (isStranger(conn)) return strangers.add(conn);
      // Closed by a mapping removal or shutdown: nothing said about its address.
      if (strangers.remove(conn) && prev === "pending" && conn.phase === "closed" && !ctx.stopping && !conn.port.mapping.closing) idle(conn);
      // It has proved itself (or is gone): nothing of its stranger days is kept.
      conn.stranger = null;
    },

    guessKey: (conn) => guessKey(conn.stranger!.source, conn.port),
  };
  return admission;
}
