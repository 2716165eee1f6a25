import { describe, expect, test } from "bun:test";
import { createRendezvous, RENDEZVOUS_EXPIRY_MS } from "../../src/mappings/direct.ts";
import { manualClock } from "../support/manual-clock.ts";

const a = { ip: "10.0.0.1", port: 5000, certificate: "CERT-A", remoteip: "1.1.1.1" };
const b = { ip: "10.0.0.2", port: 6000, certificate: "CERT-B", remoteip: "2.2.2.2" };
const c = { ip: "10.0.0.3", port: 7000, certificate: "CERT-C", remoteip: "3.3.3.3" };

describe("direct rendezvous", () => {
  test("the first caller waits, the second gets the first's details, then the first gets the second's", () => {
    const r = createRendezvous(manualClock());
    expect(r.call("id", a)).toEqual({ status: "wait" });
    expect(r.call("id", b)).toEqual({ status: "ok", peer: a });
    expect(r.call("id", a)).toEqual({ status: "ok", peer: b });
    expect(r.call("id", b)).toEqual({ status: "ok", peer: a });
  });

  test("polling again before the other side arrives is wait, never one's own details", () => {
    const r = createRendezvous(manualClock());
    for (let i = 0; i < 3; i++) expect(r.call("id", a)).toEqual({ status: "wait" });
  });

  test("a third distinct caller while both sides are known is a conflict", () => {
    const r = createRendezvous(manualClock());
    r.call("id", a);
    r.call("id", b);
    expect(() => r.call("id", c)).toThrow("already known");
  });

  test("a side that stops calling expires after five minutes", () => {
    const clock = manualClock();
    const r = createRendezvous(clock);
    r.call("id", a);
    clock.advance(RENDEZVOUS_EXPIRY_MS);
    expect(r.call("id", b)).toEqual({ status: "wait" });
    expect(r.call("id", c)).toEqual({ status: "ok", peer: b });
  });

  test("rendezvous of different ids do not mix, and forget clears one", () => {
    const r = createRendezvous(manualClock());
    r.call("one", a);
    expect(r.call("two", b)).toEqual({ status: "wait" });
    r.forget("one");
    expect(r.call("one", c)).toEqual({ status: "wait" });
  });

  test("rendezvous whose sides all expired are forgotten, even if their ids are never called again", () => {
    const clock = manualClock();
    const r = createRendezvous(clock);
    for (let i = 0; i < 100; i++) r.call(`old-${i}`, a);
    clock.advance(RENDEZVOUS_EXPIRY_MS);
    r.call("new", b);
    expect(r.size).toBe(1);
  });
});
