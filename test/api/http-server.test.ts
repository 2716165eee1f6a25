import { describe, expect, test } from "bun:test";
import { startHttpServer, type HttpLimits } from "../../src/api/http-server.ts";
import { ConnectorError } from "../../src/errors.ts";
import { errorResponse, jsonResponse } from "../../src/api/respond.ts";
import { until } from "../support/endpoint.ts";
import { manualClock } from "../support/manual-clock.ts";
import { rawConnect, type RawClient } from "../support/raw-socket.ts";

const STATUS = "POST /s HTTP/1.1\r\nContent-Length: 2\r\n\r\nok";

function server(limits: Partial<HttpLimits> = {}, admit = () => true) {
  const clock = manualClock();
  const refused: number[] = [];
  const http = startHttpServer({
    port: 0,
    hostname: "127.0.0.1",
    clock,
    limits,
    admit,
    answer: async ({ head, body }) => jsonResponse({ path: head.path, body: Buffer.from(body).toString() }),
    refuse: (error) => errorResponse(error, clock.now()),
    onRefused: () => void refused.push(1),
  });
  return { http, clock, refused, [Symbol.asyncDispose]: () => http.stop() };
}

/** Whether the server has closed the client by now: a bounded wait for its close event. */
async function isClosed(client: RawClient, ms = 2000): Promise<boolean> {
  return Promise.race([client.closed.then(() => true), Bun.sleep(ms).then(() => false)]);
}

/** Moves the clock to 1 ms before `ms` (the client still connected), then to `ms` (closed by the server). */
async function expectCutAt(clock: { advance(ms: number): void }, client: RawClient, ms: number): Promise<void> {
  clock.advance(ms - 1);
  expect(await isClosed(client, 100)).toBe(false);
  clock.advance(1);
  expect(await isClosed(client)).toBe(true);
}

describe("the API's HTTP transport", () => {
  test("a head that trickles in is cut at its deadline, counted from the connection's start", async () => {
    await using s = server({ headMs: 10_000 });
    using client = await rawConnect(s.http.port);
    await until(() => s.http.connections === 1, 2000, "the accept");
    for (const piece of ["POST /s HTTP/1.1\r\n", "Host: x\r\n", "X-A: 1\r\n"]) {
      client.socket.write(piece);
      s.clock.advance(3_000);
    }
    await expectCutAt(s.clock, client, 1_000);
    expect(client.received().length).toBe(0);
  });

  test("a body that does not arrive is cut at the body deadline; a kept-alive idle connection at the idle one", async () => {
    await using s = server({ bodyMs: 5_000, idleMs: 30_000 });
    using slow = await rawConnect(s.http.port);
    // 100 Continue tells that the head is in and the body deadline armed.
    slow.socket.write("POST /s HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\nabc");
    await slow.waitFor(25);
    await expectCutAt(s.clock, slow, 5_000);

    using idle = await rawConnect(s.http.port);
    idle.socket.write(STATUS);
    await idle.waitFor(1);
    await expectCutAt(s.clock, idle, 30_000);
  });

  test("at the connection cap the oldest unfinished connection makes room, not a kept-alive idle one, and the new request is answered", async () => {
    await using s = server({ maxConnections: 4 });
    using idle = await rawConnect(s.http.port);
    idle.socket.write(STATUS);
    await idle.waitFor(10);
    const stale: RawClient[] = [];
    for (let n = 0; n < 3; n++) {
      const c = await rawConnect(s.http.port);
      c.socket.write("POST /s HTTP/1.1\r\n");
      stale.push(c);
    }
    await until(() => s.http.connections === 4, 2000, "four connections");
    using fresh = await rawConnect(s.http.port);
    fresh.socket.write(STATUS);
    const answer = (await fresh.waitFor(10)).toString();
    expect(answer).toStartWith("HTTP/1.1 200 OK\r\n");
    expect(await isClosed(stale[0]!)).toBe(true);
    expect(await isClosed(stale[1]!, 100)).toBe(false);
    expect(await isClosed(idle, 100)).toBe(false);
    expect(s.http.connections).toBe(4);
    for (const c of stale) c.socket.terminate();
  });

  test("without descriptor room and nothing to close, a new connection is closed at accept", async () => {
    await using s = server({}, () => false);
    using c = await rawConnect(s.http.port);
    expect(await isClosed(c)).toBe(true);
    expect(s.refused).toHaveLength(1);
    expect(s.http.connections).toBe(0);
  });

  test("100 Continue before the body; pipelined requests answered in order on one connection", async () => {
    await using s = server();
    using c = await rawConnect(s.http.port);
    c.socket.write("POST /a HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
    expect((await c.waitFor(25)).toString()).toBe("HTTP/1.1 100 Continue\r\n\r\n");
    c.socket.write(`ok${STATUS.replace("/s", "/b")}`);
    await until(() => c.received().toString().split("HTTP/1.1 200").length === 3, 5000, "two answers");
    const text = c.received().toString();
    expect(text.indexOf('"path":"/a"')).toBeLessThan(text.indexOf('"path":"/b"'));
  });

  test("an answer that ends the connection reaches a client that is still sending its oversized body", async () => {
    await using s = server({ maxBodyBytes: 64 });
    using c = await rawConnect(s.http.port);
    c.socket.write("POST /s HTTP/1.1\r\nContent-Length: 4000000\r\n\r\n");
    const block = Buffer.alloc(64 * 1024, 0x41);
    for (let n = 0; n < 16; n++) c.socket.write(block);
    await until(() => c.received().includes("\r\n\r\n{"), 5000, "the 413");
    const text = c.received().toString();
    expect(text).toStartWith("HTTP/1.1 413 Content Too Large\r\n");
    expect(text).toContain("connection: close");
    expect(JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4)).errormessage).toBe("The request body is larger than 64 bytes.");
    s.clock.advance(2_000);
    expect(await isClosed(c)).toBe(true);
  });

  test("a client that does not read a large answer is cut at the body deadline", async () => {
    const clock = manualClock();
    const http = startHttpServer({
      port: 0, hostname: "127.0.0.1", clock, admit: () => true, limits: { bodyMs: 5_000 },
      answer: async () => jsonResponse({ filler: "x".repeat(32 * 1024 * 1024) }),
      refuse: (error) => errorResponse(error, clock.now()),
    });
    const closed = Promise.withResolvers<void>();
    const socket = await Bun.connect({
      hostname: "127.0.0.1",
      port: http.port,
      socket: { open: (s) => void s.write(STATUS), data: (s) => s.pause(), close: () => closed.resolve(), error() {} },
    });
    // The deadline is armed once the kernel's buffers are full; until then each step moves time for nothing.
    let cut = false;
    for (let step = 0; step < 100 && !cut; step++) {
      clock.advance(5_000);
      cut = await Promise.race([closed.promise.then(() => true), Bun.sleep(50).then(() => false)]);
    }
    socket.terminate();
    await http.stop();
    expect(cut).toBe(true);
  });

  test("an answer that fails is a 500 with errormessage, and the connection ends", async () => {
    const clock = manualClock();
    const http = startHttpServer({
      port: 0, hostname: "127.0.0.1", clock, admit: () => true,
      answer: async () => { throw new ConnectorError("internal", "broken"); },
      refuse: (error) => errorResponse(error, clock.now()),
    });
    using c = await rawConnect(http.port);
    c.socket.write(STATUS);
    expect(await isClosed(c)).toBe(true);
    const text = c.received().toString();
    expect(text).toStartWith("HTTP/1.1 500 ");
    expect(text).toContain('"errormessage":"broken"');
    await http.stop();
  });
});
