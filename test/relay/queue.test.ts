import { expect, test } from "bun:test";
import type { Conn } from "../../src/relay/conn.ts";
import { ConnQueue } from "../../src/relay/queue.ts";

/** The queue only reads and writes a connection's two links. */
const conn = (name: string): Conn => ({ name, queuePrev: null, queueNext: null }) as unknown as Conn;

const names = (queue: ConnQueue): string[] => {
  const all: Conn[] = [];
  queue.copyTo(all);
  return all.map((c) => (c as unknown as { name: string }).name);
};

test("a queue keeps its connections oldest first as they come and go, from the head, the middle and the tail", () => {
  const queue = new ConnQueue();
  const [a, b, c, d] = ["a", "b", "c", "d"].map(conn) as [Conn, Conn, Conn, Conn];
  for (const x of [a, b, c]) queue.push(x);
  expect(names(queue)).toEqual(["a", "b", "c"]);
  expect(queue.head).toBe(a);
  queue.remove(b);
  expect(names(queue)).toEqual(["a", "c"]);
  queue.push(d);
  queue.remove(a);
  expect(names(queue)).toEqual(["c", "d"]);
  expect(queue.head).toBe(c);
  queue.remove(d);
  expect(queue.tail).toBe(c);
  expect(queue.size).toBe(1);
  queue.remove(c);
  expect(queue.size).toBe(0);
  expect(queue.head).toBeNull();
  expect(queue.tail).toBeNull();
  // A connection taken out carries no links into its old queue, so it can join another one.
  expect([a.queuePrev, a.queueNext, b.queuePrev, b.queueNext]).toEqual([null, null, null, null]);
  queue.push(b);
  expect(names(queue)).toEqual(["b"]);
});
