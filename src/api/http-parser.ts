// HTTP/1.1 requests parsed incrementally from socket reads: request line, headers, a Content-Length or chunked body.
import { ConnectorError } from "../errors.ts";

export interface RequestHead {
  method: string;
  /** The path and query, from an origin-form ("/x?y") or absolute-form ("http://h/x?y") target. */
  path: string;
  headers: [string, string][];
  /** HTTP/1.1 without "Connection: close", or HTTP/1.0 with "Connection: keep-alive". */
  keepAlive: boolean;
  /** The client waits for "100 Continue" before it sends the body. */
  expectsContinue: boolean;
}

export interface ParsedRequest {
  head: RequestHead;
  body: Uint8Array;
}

export interface ParserLimits {
  maxHeadBytes: number;
  maxBodyBytes: number;
}

type Phase = "head" | "length" | "chunk-size" | "chunk-data" | "chunk-end" | "trailers" | "done";

const CRLF = Buffer.from("\r\n");
const HEAD_END = Buffer.from("\r\n\r\n");
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** One connection's parser: feed() every read; a complete request comes out of next(), then feeding goes on. */
export class RequestParser {
  private readonly buffered = new ByteQueue();
  /** Bytes at the front of `buffered` already searched for the end of the head, so a trickled head is scanned once. */
  private scanned = 0;
  private phase: Phase = "head";
  private head: RequestHead | null = null;
  private body: Buffer[] = [];
  private bodySize = 0;
  private remaining = 0;

  constructor(private readonly limits: ParserLimits) {}

  /** True once a request line has started to arrive and the request is not complete yet. */
  get started(): boolean {
    return this.phase !== "head" || this.buffered.length > 0;
  }

  /** Bytes read and not parsed yet (pipelined requests wait there while one is answered). */
  get bufferedBytes(): number {
    return this.buffered.length;
  }

  /** The head of the request being read, once complete (to answer 100 Continue). */
  get currentHead(): RequestHead | null {
    return this.phase === "head" ? null : this.head;
  }

  feed(chunk: Uint8Array): void {
    this.buffered.push(chunk);
  }

  /**
   * The next complete request, or undefined until more bytes arrive. Throws a ConnectorError
   * (bad_request, too_large) when the framing is broken: nothing after it on the connection can be
   * trusted to start a request, so the connection ends after the answer.
   */
  next(): ParsedRequest | undefined {
    for (;;) {
      switch (this.phase) {
        case "head": {
          const end = this.buffered.view().indexOf(HEAD_END, Math.max(0, this.scanned - (HEAD_END.length - 1)));
          if (end < 0) {
            if (this.buffered.length > this.limits.maxHeadBytes) throw tooLargeHead(this.limits.maxHeadBytes);
            this.scanned = this.buffered.length;
            return undefined;
          }
          if (end > this.limits.maxHeadBytes) throw tooLargeHead(this.limits.maxHeadBytes);
          const text = this.buffered.shift(end).toString("latin1");
          this.buffered.shift(HEAD_END.length);
          this.scanned = 0;
          this.startBody(parseHead(text));
          break;
        }
        case "length":
        case "chunk-data": {
          const n = Math.min(this.remaining, this.buffered.length);
          if (n > 0) this.take(n);
          if (this.remaining > 0) return undefined;
          this.phase = this.phase === "length" ? "done" : "chunk-end";
          break;
        }
        case "chunk-size": {
          const line = this.line();
          if (line === undefined) return undefined;
          const size = /^([0-9a-fA-F]{1,8})[ \t]*(;.*)?$/.exec(line);
          if (!size) throw framing("The chunked request body is malformed.");
          this.remaining = Number.parseInt(size[1]!, 16);
          if (this.bodySize + this.remaining > this.limits.maxBodyBytes) throw tooLargeBody(this.limits.maxBodyBytes);
          this.phase = this.remaining === 0 ? "trailers" : "chunk-data";
          break;
        }
        case "chunk-end": {
          const line = this.line();
          if (line === undefined) return undefined;
          if (line !== "") throw framing("The chunked request body is malformed.");
          this.phase = "chunk-size";
          break;
        }
        case "trailers": {
          const line = this.line();
          if (line === undefined) return undefined;
          if (line === "") this.phase = "done";
          break;
        }
        case "done": {
          const request = { head: this.head!, body: Buffer.concat(this.body) };
          this.phase = "head";
          this.head = null;
          this.body = [];
          this.bodySize = 0;
          return request;
        }
      }
    }
  }

  private startBody(head: RequestHead): void {
    this.head = head;
    const get = (name: string) => head.headers.filter(([key]) => key === name).map(([, value]) => value.trim());
    const encoding = get("transfer-encoding");
    const lengths = get("content-length");
    if (encoding.length > 0) {
      // Both framings at once is how requests are smuggled past proxies: refuse it.
      if (lengths.length > 0) throw framing("A request may not have both Content-Length and Transfer-Encoding.");
      if (encoding.join(",").toLowerCase().replace(/\s/g, "") !== "chunked") throw framing("Only the chunked transfer coding is accepted.");
      this.phase = "chunk-size";
      return;
    }
    const distinct = new Set(lengths.flatMap((value) => value.split(",").map((v) => v.trim())));
    if (distinct.size > 1) throw framing("The request has conflicting Content-Length headers.");
    const [length] = distinct;
    if (length === undefined) {
      this.phase = "done";
      return;
    }
    if (!/^\d{1,15}$/.test(length)) throw framing("The request's Content-Length is not a number.");
    this.remaining = Number(length);
    if (this.remaining > this.limits.maxBodyBytes) throw tooLargeBody(this.limits.maxBodyBytes);
    this.phase = this.remaining === 0 ? "done" : "length";
  }

  private take(n: number): void {
    this.body.push(this.buffered.shift(n));
    this.remaining -= n;
    this.bodySize += n;
  }

  /** One CRLF-terminated line of the chunked framing, or undefined until it is complete. */
  private line(): string | undefined {
    const end = this.buffered.view().indexOf(CRLF);
    if (end < 0) {
      if (this.buffered.length > 1024) throw framing("The chunked request body is malformed.");
      return undefined;
    }
    const line = this.buffered.shift(end).toString("latin1");
    this.buffered.shift(CRLF.length);
    return line;
  }
}

/** Bytes read and not parsed yet. Appending is amortized O(1), so a request sent a byte at a time costs no more than one sent at once. */
class ByteQueue {
  private store = Buffer.alloc(0);
  private start = 0;
  private end = 0;

  get length(): number {
    return this.end - this.start;
  }

  /** The queued bytes, valid until the next push or shift. */
  view(): Buffer {
    return this.store.subarray(this.start, this.end);
  }

  push(chunk: Uint8Array): void {
    if (this.end + chunk.length > this.store.length) {
      const size = this.length + chunk.length;
      // Room at the front is reused before the store grows; growth doubles.
      const next = size <= this.store.length / 2 ? this.store : Buffer.allocUnsafe(Math.max(1024, this.store.length * 2, size));
      this.store.copy(next, 0, this.start, this.end);
      this.store = next;
      this.end = this.length;
      this.start = 0;
    }
    this.store.set(chunk, this.end);
    this.end += chunk.length;
  }

  /** Removes the first `n` bytes and returns them as a copy of their own. */
  shift(n: number): Buffer {
    const out = Buffer.from(this.store.subarray(this.start, this.start + n));
    this.start += n;
    if (this.start === this.end) this.start = this.end = 0;
    return out;
  }
}

function parseHead(text: string): RequestHead {
  const [requestLine = "", ...lines] = text.split("\r\n");
  const match = /^([A-Z]+) (\S+) HTTP\/1\.([01])$/.exec(requestLine);
  if (!match) throw framing("The request line is not HTTP/1.1.");
  const [, method = "", target = "", minor] = match;
  const path = requestPath(target);
  const headers: [string, string][] = [];
  for (const line of lines) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon);
    if (colon <= 0 || !TOKEN.test(name)) throw framing("The request has a malformed header line.");
    headers.push([name.toLowerCase(), line.slice(colon + 1).trim()]);
  }
  const connection = headers.filter(([key]) => key === "connection").map(([, value]) => value.toLowerCase()).join(",");
  const keepAlive = minor === "1" ? !/\bclose\b/.test(connection) : /\bkeep-alive\b/.test(connection);
  const expectsContinue = headers.some(([key, value]) => key === "expect" && value.toLowerCase() === "100-continue");
  return { method, path, headers, keepAlive, expectsContinue };
}

/** "*", "host:port" (CONNECT) and anything that is not a URL have no endpoint here. */
function requestPath(target: string): string {
  if (target.startsWith("/")) return target;
  if (/^https?:\/\//i.test(target)) {
    try {
      const url = new URL(target);
      return `${url.pathname}${url.search}`;
    } catch {
      // not a URL after all: refused below like any other target
    }
  }
  throw new ConnectorError("bad_request", `The request target ${JSON.stringify(target.slice(0, 64))} is not a path; the API answers at paths such as /api/v2/status.`);
}

function framing(message: string): ConnectorError {
  return new ConnectorError("bad_request", message);
}

function tooLargeHead(limit: number): ConnectorError {
  return new ConnectorError("too_large", `The request line and headers are larger than ${size(limit)}.`);
}

function tooLargeBody(limit: number): ConnectorError {
  return new ConnectorError("too_large", `The request body is larger than ${size(limit)}.`);
}

const size = (bytes: number) => (bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} bytes`);
