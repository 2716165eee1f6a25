import { describe, expect, test } from "bun:test";
import { instance, type Instance } from "../support/executable.ts";
import { dialAgent } from "../support/agent-client.ts";
import { flood, idleCrowd, type IdleCrowd } from "../support/idle.ts";
import { authorizedCount, present, type Presented } from "../support/present.ts";
import { rawConnect } from "../support/raw-socket.ts";
import { startRelay } from "../support/relay-harness.ts";
import { makeTestCert } from "../support/tls.ts";

const LIMIT = 600;
const TRIES = 10;
const FLOOD_CAP = 16;
/** What a flooding address may hold here: the defaults but for a smaller share of the port. */
const FLOOD_LIMITS = { failures: 100, windowMs: 60_000, penaltyMs: 300_000, pendingPerPort: 4, pending: 64 };
const PUBLIC = JSON.stringify({ type: "public", maxconnections: 60, heartbeatabsencethreshold: 0 });

/** Relayed connections the running executable reports. */
async function connections(i: Instance): Promise<number> {
  const response = await fetch(`${i.url}/api/v2/commandline`, { method: "POST", body: "command=status&params=json" });
  return JSON.parse(await response.text()).connections;
}

/** Waits (bounded) until the executable holds no more than `keep` relayed connections. */
async function settle(i: Instance, keep: number): Promise<void> {
  for (let n = 0; n < 100 && (await connections(i)) > keep; n++) await Bun.sleep(50);
}

async function tries(port: number, passcode: string, count: number, options = {}): Promise<Presented[]> {
  const answers: Presented[] = [];
  for (let n = 0; n < count; n++) answers.push(await present(port, passcode, { timeoutMs: 5000, ...options }));
  return answers;
}

describe("idle strangers", () => {
  test(`under ulimit -n ${LIMIT}: idle strangers on other mappings' ports never keep a right passcode out`, async () => {
    await using i = instance({}, { wrap: ["prlimit", `--nofile=${LIMIT}`] });
    await i.start();
    const b = await i.post("/api/v2/mapping/add", { mapping: PUBLIC });
    const others = [];
    for (let n = 0; n < 4; n++) others.push(await i.post("/api/v2/mapping/add", { mapping: PUBLIC }));
    // Authorized agent connections and a bound pair, which no stranger may displace.
    const links = await Promise.all(Array.from({ length: 20 }, () => dialAgent({ port: b.port1, passcode: b.passcode1 })));
    let linksClosed = 0;
    for (const link of links) void link.closed.then(() => linksClosed++);
    using client = await rawConnect(b.port2);
    const keep = await connections(i);

    // 700 held public clients on one mapping's public port, 100 from each of 7 addresses.
    const held: IdleCrowd[] = [];
    for (let n = 0; n < 7; n++) held.push(await idleCrowd(others[0].port2, 100, `127.0.0.${n + 2}`));
    const heldAnswers = await tries(b.port1, b.passcode1, TRIES);
    const heldOpen = held.reduce((sum, crowd) => sum + crowd.open, 0);
    for (const crowd of held) crowd[Symbol.dispose]();
    await settle(i, keep);

    // 4 × 200 connections in handshake on other mappings' agent ports (each under the per-port cap of 256).
    const pending: IdleCrowd[] = [];
    for (let n = 0; n < 4; n++) pending.push(await idleCrowd(others[n].port1, 200, `127.0.0.${n + 2}`));
    const pendingAnswers = await tries(b.port1, b.passcode1, TRIES);
    const pendingOpen = pending.reduce((sum, crowd) => sum + crowd.open, 0);
    for (const crowd of pending) crowd[Symbol.dispose]();
    // The pair still relays: the client's bytes reach the agent connection it is bound to.
    const { promise: relayed, resolve } = Promise.withResolvers<boolean>();
    for (const link of links) link.onPayload = (chunk) => resolve(Buffer.from(chunk).toString() === "still here");
    client.socket.write("still here");
    const pairAlive = await Promise.race([relayed, Bun.sleep(5000).then(() => false)]);

    console.log(
      `strangers: ulimit -n ${LIMIT}; 700 held public clients on another mapping (${heldOpen} still open): ${authorizedCount(heldAnswers)}/${TRIES} right passcodes authorized; ` +
        `4 × 200 idle on other agent ports (${pendingOpen} still open): ${authorizedCount(pendingAnswers)}/${TRIES}; ` +
        `${links.length - linksClosed}/${links.length} authorized agent connections and the bound pair kept`,
    );
    expect(authorizedCount(heldAnswers)).toBe(TRIES);
    expect(authorizedCount(pendingAnswers)).toBe(TRIES);
    expect(linksClosed).toBe(0);
    expect(pairAlive).toBe(true);
    for (const link of links) link.close();
    expect((await i.run("status")).code).toBe(0);
  }, 90_000);

  test("a TLS agent gets in during a flood of idle TCP connections from another address", async () => {
    using cert = makeTestCert();
    // A small handshake cap, so that even a modest flood turns every slot over faster than a TLS handshake.
    await using r = startRelay({ tls: { cert: cert.cert, key: cert.key }, ca: cert.cert, maxPendingPerPort: FLOOD_CAP, floodLimits: FLOOD_LIMITS });
    const m = await r.open("public");
    const without = await tries(m.port1, m.passcode1, 20, { ca: cert.cert });
    await using flooding = flood(m.port1, "127.0.0.2", 1000);
    // The flood fills the port's handshake slots before the agent dials.
    for (let n = 0; n < 100 && r.relay.state(m.id)!.port1.rejectedTimeout < 1000; n++) await Bun.sleep(20);
    const during = await tries(m.port1, m.passcode1, 20, { ca: cert.cert });
    const state = r.relay.state(m.id)!.port1;
    const { made, ms } = await flooding.stop();
    console.log(
      `TLS flood: ${Math.round((made * 1000) / ms)} idle TCP connections a second from another address, at most ${FLOOD_CAP} in handshake on the port ` +
        `(${state.pending} held by the flood at the end); ` +
        `a TLS agent got in ${authorizedCount(without)}/20 without the flood, ${authorizedCount(during)}/20 during it`,
    );
    expect(authorizedCount(without)).toBe(20);
    expect(authorizedCount(during)).toBe(20);
    // The flooding address was told apart from the agent, and pays for the room: it holds few handshake slots.
    expect(state.pending).toBeLessThanOrEqual(FLOOD_LIMITS.pendingPerPort);
    expect(r.lines.filter((line) => line.includes("Connections from 127.0.0.2 keep ending without a handshake")).length).toBe(1);
    expect(r.lines.some((line) => line.includes("127.0.0.1 keep ending"))).toBe(false);
  }, 120_000);
});
