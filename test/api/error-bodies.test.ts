import { describe, expect, test } from "bun:test";
import { parseCidr } from "../../src/config/schema.ts";
import { startTestDaemon } from "../support/daemon.ts";
import { rawConnect } from "../support/raw-socket.ts";
import { until } from "../support/endpoint.ts";

/** Sends raw bytes and returns the status and the parsed JSON body of the one answer. */
async function rawRequest(port: number, request: string): Promise<{ status: number; body: any; head: string }> {
  using client = await rawConnect(port);
  client.socket.write(request);
  const complete = () => {
    const text = client.received().toString();
    const end = text.indexOf("\r\n\r\n");
    const length = Number(/content-length: (\d+)/i.exec(text)?.[1] ?? -1);
    return end >= 0 && length >= 0 && text.length >= end + 4 + length;
  };
  await Promise.race([until(complete, 5000, "a whole answer"), client.closed]);
  const text = client.received().toString();
  const end = text.indexOf("\r\n\r\n");
  let body: unknown;
  try {
    body = JSON.parse(text.slice(end + 4));
  } catch {
    body = undefined; // asserted on below
  }
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), body, head: text.slice(0, end) };
}

const isErrorBody = (body: any) => body?.status === "error" && typeof body.errormessage === "string" && typeof body.timestamp === "number";

describe("every error has a JSON body with errormessage", () => {
  test("12: bodies over 1 MiB, with Content-Length and chunked, get 413 with errormessage", async () => {
    await using d = await startTestDaemon();
    const big = `mapping=${"x".repeat(2 * 1024 * 1024)}`;
    const sized = await fetch(`${d.url}/api/v2/mapping/add`, { method: "POST", body: big, headers: { "content-type": "application/x-www-form-urlencoded" } });
    const sizedBody = await sized.text();
    const stream = new ReadableStream({
      start(controller) {
        for (let n = 0; n < 32; n++) controller.enqueue(new Uint8Array(64 * 1024).fill(0x78));
        controller.close();
      },
    });
    const chunked = await fetch(`${d.url}/api/v2/mapping/add`, { method: "POST", body: stream });
    const chunkedBody = await chunked.text();
    console.log(`error bodies: 2 MiB with Content-Length ${sized.status} ${sizedBody.slice(0, 60)}; chunked ${chunked.status} ${chunkedBody.slice(0, 60)}`);
    for (const [status, text] of [[sized.status, sizedBody], [chunked.status, chunkedBody]] as const) {
      expect(status).toBe(413);
      expect(isErrorBody(JSON.parse(text))).toBe(true);
    }
    expect(d.daemon.service.count).toBe(0);
  });

  test("12: CONNECT *, CONNECT host:port, OPTIONS * and other non-path targets get 400 with errormessage, also for callers outside allowedControllers", async () => {
    for (const allowed of [undefined, [parseCidr("192.0.2.0/24")!]]) {
      await using d = await startTestDaemon(allowed ? { allowedControllers: allowed } : {});
      const port = d.daemon.apiPort;
      for (const line of ["CONNECT * HTTP/1.1", "CONNECT example.com:443 HTTP/1.1", "OPTIONS * HTTP/1.1", "POST api/v2/status HTTP/1.1"]) {
        const answer = await rawRequest(port, `${line}\r\nHost: x\r\nContent-Length: 0\r\n\r\n`);
        expect({ line, status: answer.status }).toEqual({ line, status: 400 });
        expect(isErrorBody(answer.body)).toBe(true);
        expect(answer.head).toContain("content-type: application/json");
      }
      expect(d.lines.filter((line) => line.includes("TypeError") || line.includes("[ERROR]"))).toEqual([]);
    }
  });

  test("12: a head over 16 KiB and broken framing get their status with errormessage too", async () => {
    await using d = await startTestDaemon();
    const port = d.daemon.apiPort;
    const huge = await rawRequest(port, `POST /api/v2/status HTTP/1.1\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`);
    expect(huge.status).toBe(413);
    expect(isErrorBody(huge.body)).toBe(true);
    for (const request of [
      "POST /api/v2/status HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
      "POST /api/v2/status HTTP/1.1\r\nContent-Length: x\r\n\r\n",
      "NOT HTTP AT ALL\r\n\r\n",
    ]) {
      const answer = await rawRequest(port, request);
      expect(answer.status).toBe(400);
      expect(isErrorBody(answer.body)).toBe(true);
    }
  });
});
