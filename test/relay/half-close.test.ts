// Public pairs end as a TCP proxy ends them: a FIN is relayed as a FIN, and held clients that leave are noticed.
import { expect, test } from "bun:test";
import { PublicAgent } from "../support/agent-client.ts";
import { connect, echoServer, until, within } from "../support/endpoint.ts";
import { runGoAgent } from "../support/go-agent.ts";
import { manualClock } from "../support/manual-clock.ts";
import { startRelay } from "../support/relay-harness.ts";
import { makeTestCert } from "../support/tls.ts";

interface ClientReport {
  body: number;
  announced: number;
  firstDifference: number;
  end: string;
  error?: string;
}

for (const tls of [false, true]) {
  const mode = tls ? "TLS" : "plain";
  const wire = (certFile: string): Record<string, string | boolean> => (tls ? { ca: certFile } : { plain: true });

  test(`${mode}: a client that ends its writes after its request still gets the whole answer, then the end`, async () => {
    using cert = makeTestCert();
    await using r = startRelay(tls ? { tls: cert, ca: cert.cert } : {});
    const m = await r.open("public");
    await using agent = runGoAgent("public-agent", { addr: `127.0.0.1:${m.port1}`, passcode: m.passcode1, ...wire(cert.certFile), pool: 1, stream: "0s", max: 1007, deadline: "20s" });
    await until(() => r.relay.state(m.id)!.port1.authorized === 1, 10_000, "agent up");
    await using client = runGoAgent<ClientReport>("public-client", { addr: `127.0.0.1:${m.port2}`, ...wire(cert.certFile), request: "GET /half", "half-close": true, "await-end": true, deadline: "20s" });
    const got = await client.result;
    expect(got.error).toBeUndefined();
    expect(got.body).toBe(1007);
    expect(got.firstDifference).toBe(-1);
    // The agent's end came after the answer: a clean FIN (close_notify on TLS) rather than a reset.
    expect(got.end).toBe("eof");
    expect((await agent.result).timedOut).toBe(false);
  }, 30_000);

  test(`${mode}: an agent that ends its writes after its answer still gets what the client sends after it`, async () => {
    using cert = makeTestCert();
    await using r = startRelay(tls ? { tls: cert, ca: cert.cert } : {});
    const m = await r.open("public");
    await using agent = runGoAgent<{ afterHalfClose: number; timedOut: boolean }>("public-agent", {
      addr: `127.0.0.1:${m.port1}`, passcode: m.passcode1, ...wire(cert.certFile), pool: 1, stream: "0s", max: 1007, "half-close": true, deadline: "20s",
    });
    await until(() => r.relay.state(m.id)!.port1.authorized === 1, 10_000, "agent up");
    await using client = runGoAgent<ClientReport>("public-client", { addr: `127.0.0.1:${m.port2}`, ...wire(cert.certFile), request: "GET /more", after: 5000, "await-end": true, deadline: "20s" });
    const got = await client.result;
    expect(got.body).toBe(1007);
    expect(got.end).toBe("eof");
    const report = await agent.result;
    expect(report.timedOut).toBe(false);
    expect(report.afterHalfClose).toBe(5000);
    await until(() => r.relay.state(m.id)!.port1.bound === 0 && r.relay.state(m.id)!.port2.bound === 0, 5000, "pair closed once both ended");
  }, 30_000);
}

test("a half-closed pair without traffic is closed after halfCloseIdleMs (manual clock)", async () => {
  const clock = manualClock();
  await using r = startRelay({ clock, halfCloseIdleMs: 60_000 });
  const m = await r.open("public");
  // The agent reads the FIN and keeps its side open, never answering.
  await using agent = runGoAgent("public-agent", { addr: `127.0.0.1:${m.port1}`, passcode: m.passcode1, plain: true, pool: 1, stream: "0s", max: 10, "keep-open": true, deadline: "20s" });
  await until(() => r.relay.state(m.id)!.port1.authorized === 1, 10_000, "agent up");
  await using client = await connect({ port: m.port2 });
  await client.write(Buffer.from("GET"));
  await client.waitForBytes(10 + "\nEND 10\n".length);
  client.socket.shutdown();
  await until(() => r.relay.state(m.id)!.port1.bound === 1, 5000, "still a pair after the FIN");
  clock.advance(59_000);
  await Bun.sleep(20);
  expect(r.relay.state(m.id)!.port2.bound).toBe(1);
  clock.advance(2_000);
  await within(5000, "client closed after 60 s half-closed and idle", client.closed);
  await until(() => r.relay.state(m.id)!.port1.bound === 0, 5000, "agent side closed too");
}, 30_000);

test("held clients that leave before an agent connection is free are noticed at once and never take one", async () => {
  await using r = startRelay();
  const m = await r.open("public");
  // Thirty clients that connect, send one byte and close, while no agent connection is there.
  for (let i = 0; i < 30; i++) {
    const gone = await connect({ port: m.port2 });
    await gone.write(Buffer.from("x"));
    gone.socket.end();
  }
  await until(() => r.relay.state(m.id)!.port2.waiting === 0, 5000, "every client that left is forgotten");
  await using service = echoServer();
  await using agent = await new PublicAgent({ ...r.agent(m), connections: 5, target: { port: service.port } }).start();
  await using live = await connect({ port: m.port2 });
  await live.write(Buffer.from("alive"));
  await live.waitForBytes(5);
  const state = r.relay.state(m.id)!;
  // Only the live client took an agent connection; the other four wait for the next clients.
  expect(state.port1.bound).toBe(1);
  expect(state.port1.authorized).toBe(5);
  expect(agent.dials).toBe(5);
});
