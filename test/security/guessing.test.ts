import { describe, expect, test } from "bun:test";
import { randomUUID } from "node:crypto";
import { DEFAULT_GUESS_LIMITS } from "../../src/relay/guard.ts";
import { startTestDaemon } from "../support/daemon.ts";
import { authorizedCount, present } from "../support/present.ts";
import { startRelay } from "../support/relay-harness.ts";

const GUESS = { failures: 5, windowMs: 60_000, penaltyMs: 60_000, pendingPerAddress: 2 };
const HANDSHAKE_MS = 1500;

describe("passcode guessing", () => {
  test("a guessing address is slowed down and limited; its right passcode and other addresses' agents pass at once", async () => {
    await using d = await startTestDaemon({}, { relayLimits: { handshakeTimeoutMs: HANDSHAKE_MS, guessLimits: GUESS } });
    const m = (await d.post("/api/v2/mapping/add", { mapping: JSON.stringify({ type: "public", maxconnections: 10, heartbeatabsencethreshold: 0 }) })).body;
    const fast = [];
    for (let i = 0; i < GUESS.failures - 1; i++) fast.push(await present(m.port1, randomUUID()));
    expect(fast.every((a) => a.result === "closed" && a.ms < HANDSHAKE_MS / 2)).toBe(true);

    // The next wrong passcode starts the penalty: wrong answers wait for the deadline, and the address keeps
    // at most `pendingPerAddress` of them on the port; a newer connection of it closes the oldest.
    const first = present(m.port1, randomUUID());
    const second = present(m.port1, randomUUID());
    await Bun.sleep(100);
    const third = present(m.port1, randomUUID());
    const a = await first;
    expect(a.result).toBe("closed");
    expect(a.ms).toBeLessThan(HANDSHAKE_MS / 2);
    const [b, c] = await Promise.all([second, third]);
    expect(b.ms).toBeGreaterThanOrEqual(HANDSHAKE_MS * 0.9);
    expect(c.ms).toBeGreaterThanOrEqual(HANDSHAKE_MS * 0.9);

    // The right passcode from the same address is authorized at once, and so is an agent elsewhere.
    const right = await present(m.port1, m.passcode1);
    expect(right.result).toBe("authorized");
    expect(right.ms).toBeLessThan(HANDSHAKE_MS / 2);
    const elsewhere = await present(m.port1, m.passcode1, { localAddress: "127.0.0.2" });
    expect(elsewhere.result).toBe("authorized");
    const state = d.daemon.service.state(m.id)!.port1;
    expect(state.rejectedThrottled).toBeGreaterThanOrEqual(1);
    console.log(
      `passcode guessing: after ${GUESS.failures} wrong passcodes an address got its next answers only after ${(b.ms / 1000).toFixed(1)} s, ` +
        `at most ${GUESS.pendingPerAddress} at once (${state.rejectedThrottled} closed early for newer ones); its right passcode took ${right.ms.toFixed(1)} ms`,
    );
  }, 30_000);

  test("a penalized address's right passcodes are authorized at once, on the port it guessed on and on other mappings", async () => {
    await using r = startRelay();
    const a = await r.open("public");
    const b = await r.open("public");
    const from = { localAddress: "127.0.0.3" };
    const { failures, pendingPerAddress } = DEFAULT_GUESS_LIMITS;
    for (let i = 0; i < failures - 1; i++) expect((await present(a.port1, randomUUID(), from)).result).toBe("closed");
    // The failures-th wrong passcode starts the penalty; it and the next ones are held unanswered (tarpitted).
    const tarpits = Array.from({ length: pendingPerAddress + 1 }, () => present(a.port1, randomUUID(), { ...from, timeoutMs: 30_000 }));
    for (let i = 0; i < 100 && r.relay.state(a.id)!.port1.pending < pendingPerAddress; i++) await Bun.sleep(20);
    const samePort = [];
    for (let i = 0; i < 10; i++) samePort.push(await present(a.port1, a.passcode1, from));
    const burst = await Promise.all(Array.from({ length: 10 }, () => present(b.port1, b.passcode1, from)));
    const state = r.relay.state(a.id)!.port1;
    console.log(
      `guessing penalty: after ${failures - 1} wrong passcodes answered at once and ${pendingPerAddress + 1} tarpitted, the right passcode from that address got in ` +
        `${authorizedCount(samePort)}/10 on the same port (slowest ${Math.max(...samePort.map((answer) => answer.ms)).toFixed(1)} ms) ` +
        `and ${authorizedCount(burst)}/10 in a burst on another mapping (${state.pending} tarpits left)`,
    );
    expect(authorizedCount(samePort)).toBe(10);
    expect(authorizedCount(burst)).toBe(10);
    await r[Symbol.asyncDispose]();
    await Promise.all(tarpits);
  }, 60_000);
});
