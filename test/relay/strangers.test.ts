import { describe, expect, test } from "bun:test";
import type { Conn } from "../../src/relay/conn.ts";
import { sourceOf, Strangers } from "../../src/relay/strangers.ts";

/** Strangers only reads a connection's stranger record. */
const from = (source: string): Conn => ({ stranger: { source, holder: null, prev: null, next: null } }) as unknown as Conn;

describe("sources of strangers", () => {
  test("IPv4 addresses stand for themselves, also mapped into IPv6; IPv6 addresses count by /64", () => {
    expect(sourceOf("10.0.0.1")).toBe("10.0.0.1");
    expect(sourceOf("::ffff:10.0.0.1")).toBe("10.0.0.1");
    expect(sourceOf("2001:db8:1:2:3:4:5:6")).toBe("2001:db8:1:2::/64");
    expect(sourceOf("2001:DB8:1:2::9")).toBe("2001:db8:1:2::/64");
    expect(sourceOf("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(sourceOf("2001:0db8:0001:0002::1")).toBe("2001:db8:1:2::/64");
    expect(sourceOf("::1")).toBe("0:0:0:0::/64");
    expect(sourceOf("fe80::1")).toBe(sourceOf("fe80::2"));
  });
});

describe("strangers by source", () => {
  test("the heaviest source is the one holding the most, flooders ahead of all; it follows adds and removes", () => {
    const flooders = new Set<string>();
    const strangers = new Strangers((address) => flooders.has(address));
    const a = [from("10.0.0.1"), from("10.0.0.1"), from("10.0.0.1")];
    const b = [from("10.0.0.2"), from("10.0.0.2")];
    const c = from("10.0.0.3");
    expect(strangers.heaviest()).toBeUndefined();
    for (const conn of [...a, ...b, c]) strangers.add(conn);
    expect(strangers.count).toBe(6);
    expect(strangers.heaviest()?.address).toBe("10.0.0.1");
    strangers.remove(a[0]!);
    strangers.remove(a[1]!);
    expect(strangers.heaviest()?.address).toBe("10.0.0.2");
    expect(strangers.remove(a[1]!)).toBe(false);
    flooders.add("10.0.0.3");
    strangers.reweigh("10.0.0.3");
    expect(strangers.heaviest()?.address).toBe("10.0.0.3");
    strangers.remove(c);
    expect(strangers.holder("10.0.0.3")).toBeUndefined();
    expect(strangers.heaviest()?.address).toBe("10.0.0.2");
    for (const conn of [a[2]!, ...b]) strangers.remove(conn);
    expect(strangers.count).toBe(0);
    expect(strangers.heaviest()).toBeUndefined();
  });

  test("the strangers of a source stay oldest first as they come and go", () => {
    const strangers = new Strangers(() => false);
    const [first, second, third, fourth] = [from("10.0.0.1"), from("10.0.0.1"), from("10.0.0.1"), from("10.0.0.1")];
    for (const conn of [first, second, third]) strangers.add(conn!);
    expect([...strangers.holder("10.0.0.1")!]).toEqual([first, second, third]);
    strangers.remove(second!);
    strangers.add(fourth!);
    expect([...strangers.holder("10.0.0.1")!]).toEqual([first, third, fourth]);
    strangers.remove(first!);
    strangers.remove(fourth!);
    expect([...strangers.holder("10.0.0.1")!]).toEqual([third]);
    expect(strangers.holder("10.0.0.1")!.size).toBe(1);
  });
});
