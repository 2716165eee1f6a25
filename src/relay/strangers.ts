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

/** Puts any flooding source ahead of every other, whatever they hold. */
const FLOODER = 2 ** 30;

/**
 * The strangers of one source, oldest first. The lists run through the connections' stranger records
 * (conn.ts) and the holders, so that counting a stranger in and out allocates nothing: every connection passes here.
 */
export class Holder {
  head: Conn | null = null;
  tail: Conn | null = null;
  size = 0;
  /** Where it is filed: its size, among flooding sources or the others. */
  filedSize = 0;
  filedFlooding = false;
  rankPrev: Holder | null = null;
  rankNext: Holder | null = null;

  constructor(readonly address: string) {}

  /** Orders sources for making room: any flooding one first, then by strangers held. */
  get weight(): number {
    return (this.filedFlooding ? FLOODER : 0) + this.filedSize;
  }

  has(conn: Conn): boolean {
    return conn.stranger?.holder === this;
  }

  *[Symbol.iterator](): Generator<Conn> {
    for (let conn = this.head; conn !== null; conn = conn.stranger!.next) yield conn;
  }
}

/** The strangers of a relay, process-wide, with the source holding the most found in O(1). */
export class Strangers {
  private readonly holders = new Map<string, Holder>();
  /** Holders by size, the heads of their lists; [0] the other sources, [1] the flooding ones. */
  private readonly ranks: [(Holder | null)[], (Holder | null)[]] = [[], []];
  /** The largest size that may be filed in each, at most one past the truth (lowered when asked). */
  private readonly tops = [0, 0];
  /** Strangers held process-wide. */
  count = 0;

  constructor(private readonly flooding: (address: string) => boolean) {}

  holder(address: string): Holder | undefined {
    return this.holders.get(address);
  }

  /** Counts in a connection that has its stranger record (conn.ts). */
  add(conn: Conn): void {
    const stranger = conn.stranger!;
    let holder = this.holders.get(stranger.source);
    if (holder === undefined) {
      holder = new Holder(stranger.source);
      this.holders.set(stranger.source, holder);
    } else {
      stranger.source = holder.address; // one string per source, not one per connection
      this.unfile(holder);
    }
    stranger.holder = holder;
    stranger.prev = holder.tail;
    stranger.next = null;
    if (holder.tail === null) holder.head = conn;
    else holder.tail.stranger!.next = conn;
    holder.tail = conn;
    holder.size++;
    this.count++;
    this.file(holder);
  }

  /** Forgets `conn`; false when it was not held (already evicted). */
  remove(conn: Conn): boolean {
    const stranger = conn.stranger;
    const holder = stranger?.holder ?? null;
    if (stranger === null || holder === null) return false;
    const { prev, next } = stranger;
    if (prev === null) holder.head = next;
    else prev.stranger!.next = next;
    if (next === null) holder.tail = prev;
    else next.stranger!.prev = prev;
    stranger.holder = stranger.prev = stranger.next = null;
    holder.size--;
    this.count--;
    this.unfile(holder);
    if (holder.size === 0) this.holders.delete(holder.address);
    else this.file(holder);
    return true;
  }

  /** Files a source again after it started (or stopped) flooding. */
  reweigh(address: string): void {
    const holder = this.holders.get(address);
    if (holder === undefined) return;
    this.unfile(holder);
    this.file(holder);
  }

  /** The source holding the most strangers, flooding sources first. */
  heaviest(): Holder | undefined {
    for (const flooding of [1, 0] as const) {
      const rank = this.ranks[flooding];
      let top = this.tops[flooding]!;
      while (top > 0 && (rank[top] ?? null) === null) top--;
      this.tops[flooding] = top;
      if (top > 0) return rank[top]!;
    }
    return undefined;
  }

  private file(holder: Holder): void {
    const flooding = this.flooding(holder.address);
    const rank = this.ranks[flooding ? 1 : 0];
    const size = holder.size;
    while (rank.length <= size) rank.push(null);
    const head = rank[size]!;
    holder.rankPrev = null;
    holder.rankNext = head;
    if (head !== null) head.rankPrev = holder;
    rank[size] = holder;
    holder.filedSize = size;
    holder.filedFlooding = flooding;
    const at = flooding ? 1 : 0;
    if (size > this.tops[at]!) this.tops[at] = size;
  }

  private unfile(holder: Holder): void {
    const rank = this.ranks[holder.filedFlooding ? 1 : 0];
    if (holder.rankPrev === null) {
      if (rank[holder.filedSize] === holder) rank[holder.filedSize] = holder.rankNext;
    } else holder.rankPrev.rankNext = holder.rankNext;
    if (holder.rankNext !== null) holder.rankNext.rankPrev = holder.rankPrev;
    holder.rankPrev = holder.rankNext = null;
  }
}
