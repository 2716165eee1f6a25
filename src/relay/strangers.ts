// Who holds the strangers, by source address: room is made at the expense of the address holding the most, flooders first.
import type { Conn } from "./conn.ts";

/**
 * What one source is accounted under: an IPv4 address (also when mapped into IPv6), or the /64 prefix of
 * an IPv6 address, since one host usually holds a whole /64 and could otherwise pose as many sources.
 */
export function sourceOf(address: string): string {
  if (!address.includes(":")) return address;
  const lower = address.toLowerCase();
  if (lower.startsWith("::ffff:") && lower.includes(".")) return lower.slice(7);
  const [head = "", tail] = lower.split("::");
  const groups = head === "" ? [] : head.split(":");
  if (tail !== undefined) {
    const rest = tail === "" ? [] : tail.split(":");
    while (groups.length + rest.length < 8) groups.push("0");
    groups.push(...rest);
  }
  return `${groups.slice(0, 4).map((group) => group.replace(/^0+(?=.)/, "")).join(":")}::/64`;
}

/** The strangers of one source, oldest first. */
export interface Holder {
  readonly address: string;
  readonly conns: Set<Conn>;
  /** Where it is filed: strangers held, plus FLOODER while the address floods. */
  weight: number;
}

/** Puts any flooding address ahead of every other, whatever they hold. */
const FLOODER = 2 ** 30;

/** The strangers of a relay, process-wide. Finding the heaviest address costs O(1) but after it empties its rank. */
export class Strangers {
  private readonly holders = new Map<string, Holder>();
  /** Holders by weight, so that the heaviest is found without a scan. */
  private readonly ranks = new Map<number, Set<Holder>>();
  private top = 0;
  /** `top` may name an empty rank: recomputed when next asked for. */
  private stale = false;
  /** Strangers held process-wide. */
  count = 0;

  constructor(private readonly flooding: (address: string) => boolean) {}

  holder(address: string): Holder | undefined {
    return this.holders.get(address);
  }

  add(conn: Conn): void {
    let holder = this.holders.get(conn.source);
    if (holder === undefined) {
      holder = { address: conn.source, conns: new Set(), weight: 0 };
      this.holders.set(conn.source, holder);
    } else {
      conn.source = holder.address; // one string per source, not one per connection
      this.unfile(holder);
    }
    holder.conns.add(conn);
    this.count++;
    this.file(holder);
  }

  /** Forgets `conn`; false when it was not held (already evicted). */
  remove(conn: Conn): boolean {
    const holder = this.holders.get(conn.source);
    if (holder === undefined || !holder.conns.delete(conn)) return false;
    this.count--;
    this.unfile(holder);
    if (holder.conns.size === 0) this.holders.delete(holder.address);
    else this.file(holder);
    return true;
  }

  /** Files an address again after it started (or stopped) flooding. */
  reweigh(address: string): void {
    const holder = this.holders.get(address);
    if (holder === undefined) return;
    this.unfile(holder);
    this.file(holder);
  }

  /** The address holding the most strangers, flooding addresses first. */
  heaviest(): Holder | undefined {
    if (this.stale) {
      this.top = 0;
      for (const weight of this.ranks.keys()) if (weight > this.top) this.top = weight;
      this.stale = false;
    }
    const rank = this.ranks.get(this.top);
    if (rank !== undefined) for (const holder of rank) return holder;
    return undefined;
  }

  private file(holder: Holder): void {
    const weight = holder.conns.size + (this.flooding(holder.address) ? FLOODER : 0);
    holder.weight = weight;
    let rank = this.ranks.get(weight);
    if (rank === undefined) this.ranks.set(weight, (rank = new Set()));
    rank.add(holder);
    // Heavier than a stale top is heavier than every holder.
    if (weight >= this.top) {
      this.top = weight;
      this.stale = false;
    }
  }

  private unfile(holder: Holder): void {
    const rank = this.ranks.get(holder.weight);
    if (rank === undefined || !rank.delete(holder) || rank.size > 0) return;
    this.ranks.delete(holder.weight);
    if (holder.weight === this.top) this.stale = true;
  }
}
