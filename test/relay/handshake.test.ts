// Agent handshakes: passcode in any cut, wrong passcodes, the handshake deadline, the pending cap and maxconnections.
import { describe, expect, test } from "bun:test";
import { dialAgent, NotAuthorized } from "../support/agent-client.ts";
import { connect, until, within } from "../support/endpoint.ts";
import { manualClock } from "../support/manual-clock.ts";
import { startRelay } from "../support/relay-harness.ts";
import { makeTestCert } from "../support/tls.ts";

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString("latin1");

for (const tls of [false, true]) {
  const mode = tls ? "TLS" : "plain";
  describe(`${mode}`, () => {
    test("a passcode split over many reads is gathered, then AUTHORIZED", async () => {
      using cert = makeTestCert();
      await using r = startRelay(tls ? { tls: cert, ca: cert.cert } : {});
      const m = await r.open("public");
      await using ep = await connect({ port: m.port1, ca: r.ca, keepReads: true });
      for (const piece of [m.passcode1.slice(0, 1), m.passcode1.slice(1, 10), m.passcode1.slice(10, 35)]) {
        expect(ep.socket.write(piece)).toBe(piece.length);
        // Each piece is its own read at the Connector, which has nothing to say yet.
        await Bun.sleep(15);
        expect(ep.received).toBe(0);
        expect(r.relay.state(m.id)!.port1.pending).toBe(1);
      }
      ep.socket.write(m.passcode1.slice(35));
      await ep.waitForBytes(10);
      expect(text(Buffer.concat(ep.reads!))).toBe("AUTHORIZED");
      expect(r.relay.state(m.id)!.port1.authorized).toBe(1);
      expect(r.relay.state(m.id)!.port1.pending).toBe(0);
    });

    test("payload glued behind the passcode is relayed", async () => {
      using cert = makeTestCert();
      await using r = startRelay(tls ? { tls: cert, ca: cert.cert } : {});
      const m = await r.open("private");
      const other = await dialAgent(r.agent(m, 2));
      const got: string[] = [];
      other.onPayload = (chunk) => got.push(text(chunk));
      await using ep = await connect({ port: m.port1, ca: r.ca, keepReads: true });
      ep.socket.write(`${m.passcode1}hello behind the passcode`);
      await until(() => got.join("") === "hello behind the passcode", 5000, "glued payload relayed");
      expect(text(Buffer.concat(ep.reads!))).toBe("AUTHORIZED");
      const state = r.relay.state(m.id)!;
      expect(state.port1.bytesIn).toBe("hello behind the passcode".length);
      expect(state.port2.bytesOut).toBe("hello behind the passcode".length);
      other.ep.socket.terminate();
    });

    test("a wrong passcode is closed without a reply, counted, and no passcode is logged", async () => {
      using cert = makeTestCert();
      await using r = startRelay(tls ? { tls: cert, ca: cert.cert } : {});
      const m = await r.open("private");
      await using ep = await connect({ port: m.port1, ca: r.ca });
      ep.socket.write(m.passcode2); // the other port's passcode
      await within(5000, "closed", ep.closed);
      expect(ep.received).toBe(0);
      expect(r.relay.state(m.id)!.port1.rejectedPasscode).toBe(1);
      expect(r.relay.state(m.id)!.port1.authorized).toBe(0);
      const log = r.lines.join("");
      for (const secret of [m.passcode1, m.passcode2]) expect(log).not.toContain(secret);
    });

    test("no passcode within the handshake deadline: closed and counted (manual clock)", async () => {
      using cert = makeTestCert();
      const clock = manualClock();
      await using r = startRelay({ clock, handshakeTimeoutMs: 10_000, ...(tls ? { tls: cert, ca: cert.cert } : {}) });
      const m = await r.open("public");
      await using slow = await connect({ port: m.port1, ca: r.ca });
      slow.socket.write(m.passcode1.slice(0, 20));
      await until(() => r.relay.state(m.id)!.port1.pending === 1, 5000, "pending");
      clock.advance(9_000);
      await Bun.sleep(20);
      expect(slow.isClosed).toBe(false);
      clock.advance(1_000);
      await within(5000, "closed at the deadline", slow.closed);
      const state = r.relay.state(m.id)!.port1;
      expect(state.rejectedTimeout).toBe(1);
      expect(state.pending).toBe(0);
      expect(slow.received).toBe(0);
    });
  });
}

test("TLS: the deadline covers the TLS handshake (a TCP client that never says hello)", async () => {
  using cert = makeTestCert();
  const clock = manualClock();
  await using r = startRelay({ clock, tls: cert, ca: cert.cert });
  const m = await r.open("public");
  // Plain TCP connections to the TLS ports, agent side and public side.
  await using agentSide = await connect({ port: m.port1 });
  await using publicSide = await connect({ port: m.port2 });
  await until(() => r.relay.state(m.id)!.port1.pending === 1 && r.relay.state(m.id)!.port2.pending === 1, 5000, "both pending");
  clock.advance(10_000);
  await within(5000, "both closed", Promise.all([agentSide.closed, publicSide.closed]));
  expect(r.relay.state(m.id)!.port1.rejectedTimeout).toBe(1);
  expect(r.relay.state(m.id)!.port2.rejectedTimeout).toBe(1);
});

test("at the pending cap the oldest stranger makes room, so agents always get in; strangers never count toward maxconnections", async () => {
  await using r = startRelay({ maxPendingPerPort: 3 });
  const m = await r.open("public", { maxConnections1: 1 });
  const strangers = [];
  for (let i = 0; i < 3; i++) {
    strangers.push(await connect({ port: m.port1 }));
    await until(() => r.relay.state(m.id)!.port1.pending === i + 1, 5000, `${i + 1} pending`);
  }
  // A fourth stranger: the oldest one is closed, the cost stays at three.
  await using fourth = await connect({ port: m.port1 });
  await within(5000, "the oldest stranger closed", strangers[0]!.closed);
  expect(r.relay.state(m.id)!.port1.pending).toBe(3);
  expect(fourth.isClosed).toBe(false);
  // An agent gets in although the cap is full, and maxconnections 1 counts only it.
  const agent = await dialAgent(r.agent(m));
  await within(5000, "the next oldest closed", strangers[1]!.closed);
  const state = r.relay.state(m.id)!.port1;
  expect(state.authorized).toBe(1);
  expect(state.pending).toBe(2);
  expect(state.rejectedTimeout).toBe(2);
  expect(strangers[2]!.isClosed).toBe(false);
  for (const s of strangers) s.socket.terminate();
  agent.ep.socket.terminate();
});

test("maxconnections limits authorized agent connections; the right passcode past the limit is closed", async () => {
  await using r = startRelay();
  const m = await r.open("public", { maxConnections1: 2 });
  const first = await dialAgent(r.agent(m));
  const second = await dialAgent(r.agent(m));
  expect(dialAgent(r.agent(m))).rejects.toBeInstanceOf(NotAuthorized);
  await until(() => r.relay.state(m.id)!.port1.rejectedLimit === 1, 5000, "refused by the limit");
  expect(r.relay.state(m.id)!.port1.authorized).toBe(2);
  first.ep.socket.terminate();
  await until(() => r.relay.state(m.id)!.port1.authorized === 1, 5000, "a place freed");
  const third = await dialAgent(r.agent(m));
  expect(r.relay.state(m.id)!.port1.authorized).toBe(2);
  second.ep.socket.terminate();
  third.ep.socket.terminate();
});

test("maxconnections 0 allows no agent connection", async () => {
  await using r = startRelay();
  const m = await r.open("private", { maxConnections2: 0 });
  await expect(dialAgent(r.agent(m, 2))).rejects.toBeInstanceOf(NotAuthorized);
  expect(r.relay.state(m.id)!.port2.rejectedLimit).toBe(1);
  expect(r.relay.state(m.id)!.port2.authorized).toBe(0);
});
