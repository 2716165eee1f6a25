// The connections of one port in one phase, oldest first, linked through the connections themselves: adding and removing allocate nothing.
import type { Conn } from "./conn.ts";

/** A connection is in at most one queue at a time (its phase's), so one pair of links per connection serves them all. */
export class ConnQueue {
  head: Conn | null = null;
  tail: Conn | null = null;
  size = 0;

  push(conn: Conn): void {
    conn.queuePrev = this.tail;
    conn.queueNext = null;
    if (this.tail === null) this.head = conn;
    else this.tail.queueNext = conn;
    this.tail = conn;
    this.size++;
  }

  remove(conn: Conn): void {
    const { queuePrev: prev, queueNext: next } = conn;
    if (prev === null) this.head = next;
    else prev.queueNext = next;
    if (next === null) this.tail = prev;
    else next.queuePrev = prev;
    conn.queuePrev = conn.queueNext = null;
    this.size--;
  }

  /** Appends the queue's connections to `into`, oldest first. */
  copyTo(into: Conn[]): void {
    for (let conn = this.head; conn !== null; conn = conn.queueNext) into.push(conn);
  }
}
