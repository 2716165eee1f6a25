import { describe, expect, test } from "bun:test";
import { createPortPool } from "../../src/ports/pool.ts";
import { unreservedEphemeral } from "../../src/ports/ephemeral.ts";

describe("port pool", () => {
  test("ranges minus excludes, as in the seed settings", () => {
    const pool = createPortPool({
      ranges: [{ from: 6000, to: 6001 }, { from: 7000, to: 7002 }],
      exclude: [{ from: 7001, to: 7001 }],
    });
    expect(pool.size).toBe(4);
    const taken = [pool.take(), pool.take(), pool.take(), pool.take()];
    expect(taken).toEqual([6000, 6001, 7000, 7002]);
    expect(pool.take()).toBeUndefined();
    expect(pool.available).toBe(0);
  });

  test("released ports come back, after the ports not yet handed out", () => {
    const pool = createPortPool({ ranges: [{ from: 100, to: 103 }] });
    expect(pool.take()).toBe(100);
    expect(pool.take()).toBe(101);
    pool.release(100);
    expect(pool.available).toBe(3);
    expect(pool.take()).toBe(102);
    expect(pool.take()).toBe(103);
    expect(pool.take()).toBe(100);
    expect(pool.take()).toBeUndefined();
  });

  test("skip leaves ports free for later", () => {
    const pool = createPortPool({ ranges: [{ from: 100, to: 102 }] });
    expect(pool.take(new Set([100, 101]))).toBe(102);
    expect(pool.take(new Set([100, 101]))).toBeUndefined();
    expect(pool.available).toBe(2);
  });

  test("claimed ports (restored mappings) are not handed out; ports outside the pool are ignored", () => {
    const pool = createPortPool({ ranges: [{ from: 100, to: 102 }] });
    pool.claim(101);
    pool.claim(101);
    pool.claim(9999);
    expect(pool.available).toBe(2);
    expect([pool.take(), pool.take(), pool.take()]).toEqual([100, 102, undefined]);
    pool.release(9999);
    pool.release(101);
    pool.release(101);
    expect(pool.available).toBe(1);
  });

  test("a full-range pool: 60,000 ports and 9,000 mappings stay exact", () => {
    const pool = createPortPool({ ranges: [{ from: 5000, to: 64999 }] });
    expect(pool.size).toBe(60000);
    const seen = new Set<number>();
    for (let i = 0; i < 18000; i++) seen.add(pool.take()!);
    expect(seen.size).toBe(18000);
    expect(pool.available).toBe(42000);
    for (const port of seen) pool.release(port);
    expect(pool.available).toBe(60000);
  });

  test("ranges() merges adjacent ports", () => {
    const pool = createPortPool({ ranges: [{ from: 10, to: 12 }, { from: 13, to: 15 }, { from: 20, to: 20 }], exclude: [{ from: 11, to: 11 }] });
    expect(pool.ranges()).toEqual([{ from: 10, to: 10 }, { from: 12, to: 15 }, { from: 20, to: 20 }]);
  });
});

describe("ephemeral range check", () => {
  const proc = { localPortRange: "32768\t60999\n", reservedPorts: "\n" };

  test("pool ports inside the ephemeral range are reported", () => {
    expect(unreservedEphemeral([{ from: 30000, to: 39999 }, { from: 6000, to: 6001 }], proc)).toEqual([{ from: 32768, to: 39999 }]);
  });

  test("reserved ports are not reported", () => {
    const reserved = { ...proc, reservedPorts: "32768-35000,35002\n" };
    expect(unreservedEphemeral([{ from: 30000, to: 36000 }], reserved)).toEqual([{ from: 35001, to: 35001 }, { from: 35003, to: 36000 }]);
  });

  test("a pool outside the range is fine", () => {
    expect(unreservedEphemeral([{ from: 6000, to: 7000 }], proc)).toEqual([]);
  });
});
