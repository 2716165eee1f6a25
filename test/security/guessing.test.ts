import { describe, expect, test } from "bun:test";
import { randomUUID } from "node:crypto";
import { connect } from "node:net";
import { startTestDaemon } from "../support/daemon.ts";

const GUESS = { failures: 5, windowMs: 60_000, penaltyMs: 60_000, pendingPerAddress: 2 };
const HANDSHAKE_MS = 1500;

/** Presents `passcode` from `localAddress`; how the Connector answered and how long it took. */
function present(port: number, passcode: string, localAddress = "127.0.0.1"): Promise<{ result: "authorized" | "closed"; ms: number }> {
  const { promise, resolve } = Promise.withResolvers<{ result: "authorized" | "closed"; ms: number }>();
  const began = performance.now();
  const done = (result: "authorized" | "closed") => resolve({ result, ms: performance.now() - began });
  const socket = connect({ host: "127.0.0.1", port, localAddress }, () => socket.write(passcode));
  socket.on("data", (chunk) => chunk.toString().startsWith("AUTHORIZED") && done("authorized"));
  socket.on("close", () => done("closed"));
  socket.on("error", () => done("closed"));
  socket.setTimeout(10_000, () => socket.destroy());
  return promise.finally(() => socket.destroy());
}

describe("passcode guessing", () => {
  test("a guessing address is slowed down and limited; its right passcode and other addresses' agents pass at once", async () => {
    await using d = await startTestDaemon({}, { relayLimits: { handshakeTimeoutMs: HANDSHAKE_MS, guessLimits: GUESS } });
    const m = (await d.post("/api/v2/mapping/add", { mapping: JSON.stringify({ type: "public", maxconnections: 10, heartbeatabsencethreshold: 0 }) })).body;
    const fast = [];
    for (let i = 0; i < GUESS.failures - 1; i++) fast.push(await present(m.port1, randomUUID()));
    expect(fast.every((a) => a.result === "closed" && a.ms < HANDSHAKE_MS / 2)).toBe(true);

    // The next wrong passcode starts the penalty: wrong answers wait for the deadline, and only
    // `pendingPerAddress` connections of the address may wait at once.
    const slow = present(m.port1, randomUUID());
    const second = present(m.port1, randomUUID());
    await Bun.sleep(100);
    const third = await present(m.port1, randomUUID());
    expect(third.result).toBe("closed");
    expect(third.ms).toBeLessThan(HANDSHAKE_MS / 2);
    const [a, b] = await Promise.all([slow, second]);
    expect(a.ms).toBeGreaterThanOrEqual(HANDSHAKE_MS * 0.9);
    expect(b.ms).toBeGreaterThanOrEqual(HANDSHAKE_MS * 0.9);

    // The right passcode from the same address is authorized at once, and so is an agent elsewhere.
    const right = await present(m.port1, m.passcode1);
    expect(right.result).toBe("authorized");
    expect(right.ms).toBeLessThan(HANDSHAKE_MS / 2);
    const elsewhere = await present(m.port1, m.passcode1, "127.0.0.2");
    expect(elsewhere.result).toBe("authorized");
    const state = d.daemon.service.state(m.id)!.port1;
    expect(state.rejectedThrottled).toBeGreaterThanOrEqual(1);
    console.log(
      `passcode guessing: after ${GUESS.failures} wrong passcodes an address got its next answers only after ${(a.ms / 1000).toFixed(1)} s, ` +
        `at most ${GUESS.pendingPerAddress} at once (${state.rejectedThrottled} refused at accept); its right passcode took ${right.ms.toFixed(1)} ms`,
    );
  }, 30_000);
});
