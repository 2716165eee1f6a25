import { describe, expect, test } from "bun:test";
import { createGuard } from "../../src/relay/guard.ts";

const limits = { failures: 3, windowMs: 1000, penaltyMs: 5000, pendingPerAddress: 2 };

describe("passcode guessing guard", () => {
  test("the n-th wrong passcode within the window starts a penalty for that address only", () => {
    const guard = createGuard(limits);
    guard.failed("10.0.0.1", 0);
    guard.failed("10.0.0.1", 10);
    expect(guard.penalized("10.0.0.1", 20)).toBe(false);
    guard.failed("10.0.0.1", 20);
    expect(guard.penalized("10.0.0.1", 21)).toBe(true);
    expect(guard.penalized("10.0.0.2", 21)).toBe(false);
  });

  test("failures spread wider than the window do not add up", () => {
    const guard = createGuard(limits);
    for (let t = 0; t < 10_000; t += 600) guard.failed("10.0.0.1", t);
    expect(guard.penalized("10.0.0.1", 10_000)).toBe(false);
  });

  test("the penalty ends penaltyMs after the last wrong passcode, and each new one extends it", () => {
    const guard = createGuard(limits);
    for (const t of [0, 1, 2]) guard.failed("a", t);
    guard.failed("a", 4000);
    expect(guard.penalized("a", 8999)).toBe(true);
    expect(guard.penalized("a", 9000)).toBe(false);
    guard.failed("a", 9001);
    expect(guard.penalized("a", 9002)).toBe(false);
  });

  test("memory is bounded: old addresses are forgotten first", () => {
    const guard = createGuard(limits);
    for (const t of [0, 1, 2]) guard.failed("first", t);
    for (let i = 0; i < 10_000; i++) guard.failed(`spoofed-${i}`, 3);
    expect(guard.penalized("first", 4)).toBe(false);
    expect(guard.penalized("spoofed-9999", 4)).toBe(false);
  });
});
