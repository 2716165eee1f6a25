import { describe, expect, test } from "bun:test";
import { RequestParser } from "../../src/api/http-parser.ts";
import { thrown } from "../support/thrown.ts";

const limits = { maxHeadBytes: 1024, maxBodyBytes: 64 };
const POST = "POST /api/v2/status HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 13\r\n\r\nmappingid=all";
const CHUNKED = "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n";

function parseAll(...reads: string[]) {
  const parser = new RequestParser(limits);
  const out = [];
  for (const read of reads) {
    parser.feed(Buffer.from(read, "latin1"));
    for (let request = parser.next(); request; request = parser.next()) out.push(request);
  }
  return out;
}

const text = (body: Uint8Array) => Buffer.from(body).toString();

describe("HTTP request parsing", () => {
  test("a request split into single bytes, or glued to the next one, comes out whole and in order", () => {
    const split = parseAll(...POST.split(""));
    expect(split).toHaveLength(1);
    expect(split[0]!.head).toMatchObject({ method: "POST", path: "/api/v2/status", keepAlive: true, expectsContinue: false });
    expect(text(split[0]!.body)).toBe("mappingid=all");
    const glued = parseAll(POST + CHUNKED + POST);
    expect(glued.map((r) => text(r.body))).toEqual(["mappingid=all", "hello world", "mappingid=all"]);
    const chunkedSplit = parseAll(...CHUNKED.split(""));
    expect(text(chunkedSplit[0]!.body)).toBe("hello world");
  });

  test("keep-alive follows the version and Connection; Expect: 100-continue is seen once the head is in", () => {
    expect(parseAll("GET / HTTP/1.0\r\n\r\n")[0]!.head.keepAlive).toBe(false);
    expect(parseAll("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")[0]!.head.keepAlive).toBe(true);
    expect(parseAll("GET / HTTP/1.1\r\nConnection: close\r\n\r\n")[0]!.head.keepAlive).toBe(false);
    const parser = new RequestParser(limits);
    parser.feed(Buffer.from("POST /a HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"));
    expect(parser.next()).toBeUndefined();
    expect(parser.currentHead?.expectsContinue).toBe(true);
    parser.feed(Buffer.from("ok"));
    expect(text(parser.next()!.body)).toBe("ok");
  });

  test("an absolute-form target gives its path; *, host:port and other non-paths are refused with a sentence", () => {
    expect(parseAll("POST http://h:8080/api/v2/status?x=1 HTTP/1.1\r\n\r\n")[0]!.head.path).toBe("/api/v2/status?x=1");
    for (const target of ["*", "example.com:443", "api/v2/status", "http://[bad/"]) {
      const error = thrown(() => parseAll(`CONNECT ${target} HTTP/1.1\r\n\r\n`));
      expect(error).toMatchObject({ code: "bad_request" });
      expect(String(error)).toContain("is not a path");
    }
  });

  test("broken framing is refused: bad request line, header line, lengths, codings, chunk sizes", () => {
    const refused = (request: string) => (thrown(() => parseAll(request)) as { code?: string } | undefined)?.code;
    expect(refused("GARBAGE\r\n\r\n")).toBe("bad_request");
    expect(refused("GET / HTTP/2.0\r\n\r\n")).toBe("bad_request");
    expect(refused("GET / HTTP/1.1\r\nno colon\r\n\r\n")).toBe("bad_request");
    expect(refused("GET / HTTP/1.1\r\nbad name: x\r\n\r\n")).toBe("bad_request");
    expect(refused("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")).toBe("bad_request");
    expect(refused("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n")).toBe("bad_request");
    expect(refused("POST / HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n")).toBe("bad_request");
    expect(refused("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n")).toBe("bad_request");
    expect(refused("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")).toBe("bad_request");
    expect(refused("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n")).toBe("bad_request");
  });

  test("past the limits: too_large for the head, a Content-Length or chunks over the body limit, before the body is read", () => {
    const code = (...reads: string[]) => (thrown(() => parseAll(...reads)) as { code?: string } | undefined)?.code;
    expect(code(`GET / HTTP/1.1\r\nX: ${"a".repeat(2000)}`)).toBe("too_large");
    expect(code("POST / HTTP/1.1\r\nContent-Length: 65\r\n\r\n")).toBe("too_large");
    expect(code("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n", "x".repeat(64), "\r\n1\r\n")).toBe("too_large");
    expect(code("POST / HTTP/1.1\r\nContent-Length: 64\r\n\r\n" + "x".repeat(64))).toBeUndefined();
  });
});
