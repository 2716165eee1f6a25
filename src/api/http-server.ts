// The API's HTTP/1.1 transport on Bun.listen: every connection admitted, timed and closed here, so that a flood of
// slow or unfinished requests can neither hold descriptors for long nor push the process to its descriptor limit.
import type { Socket, TCPSocketListener } from "bun";
import type { Clock } from "../clock.ts";
import type { TlsMaterial } from "../relay/types.ts";
import { RequestParser, type ParsedRequest } from "./http-parser.ts";

export interface HttpLimits {
  /** Open API connections at most; past it the oldest one not being answered makes room. */
  maxConnections: number;
  /** From a request's first byte (or a fresh connection's accept, TLS handshake included) to the end of its headers. */
  headMs: number;
  /** From the end of the headers to the end of the body, and for a client to take an answer it does not read. */
  bodyMs: number;
  /** A kept-alive connection between requests. */
  idleMs: number;
  /** After an answer that ends the connection: reading and dropping what the client still sends, so it sees the answer. */
  lingerMs: number;
  maxHeadBytes: number;
  maxBodyBytes: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  maxConnections: 256,
  headMs: 10_000,
  bodyMs: 10_000,
  idleMs: 30_000,
  lingerMs: 2_000,
  maxHeadBytes: 16 * 1024,
  maxBodyBytes: 64 * 1024,
};

export interface HttpServerOptions {
  port: number;
  hostname: string;
  tls?: TlsMaterial;
  clock: Clock;
  limits?: Partial<HttpLimits>;
  /** Whether the descriptor budget has room for one more connection. */
  admit: () => boolean;
  /** Answers a complete request (a rejection is answered with `refuse` and ends the connection). */
  answer(request: ParsedRequest, peer: string): Promise<Response>;
  /** Answers a request whose framing is broken (its connection ends afterwards). */
  refuse(error: unknown): Response;
  /** Told of connections closed at accept for want of room. */
  onRefused?: () => void;
}

export interface HttpServer {
  readonly port: number;
  readonly connections: number;
  setTls(tls: TlsMaterial | undefined): void;
  /** Stops listening, lets answers in progress finish, then closes every connection. */
  stop(): Promise<void>;
}

interface Conn {
  socket: Socket<Conn>;
  parser: RequestParser;
  /** An answer is being computed or written: never evicted, reads are only buffered. */
  busy: boolean;
  /** The answer ends the connection. */
  closing: boolean;
  /** The answer is written: what arrives now is dropped until the client closes or the linger ends. */
  lingering: boolean;
  closed: boolean;
  unsent: Uint8Array | null;
  cancelDeadline: () => void;
  /** Which deadline is armed: a request that started keeps its deadline however slowly it trickles in. */
  armed: "fresh" | "head" | "body" | "write" | "idle" | "linger" | "none";
}

export function startHttpServer(options: HttpServerOptions): HttpServer {
  const limits = { ...DEFAULT_HTTP_LIMITS, ...options.limits };
  const { clock } = options;
  const conns = new Set<Conn>();
  let stopping = false;
  const { promise: drained, resolve: markDrained } = Promise.withResolvers<void>();

  const arm = (conn: Conn, kind: Conn["armed"], ms: number): void => {
    conn.cancelDeadline();
    conn.armed = kind;
    conn.cancelDeadline = clock.after(ms, () => conn.socket.terminate());
  };
  const disarm = (conn: Conn): void => {
    conn.cancelDeadline();
    conn.armed = "none";
  };

  /**
   * Closes a connection to make room for a new one: the oldest that lingers after its answer or has
   * an unfinished request (or none yet), as a flood leaves them; a kept-alive idle one only when
   * there is no such connection, since its client may be about to reuse it.
   */
  const evict = (): boolean => {
    let idle: Conn | undefined;
    for (const conn of conns) {
      if (conn.busy) continue;
      if (conn.armed === "idle" && !conn.parser.started) {
        idle ??= conn;
        continue;
      }
      conn.socket.terminate();
      return true;
    }
    idle?.socket.terminate();
    return idle !== undefined;
  };

  const write = (conn: Conn, bytes: Uint8Array): void => {
    const n = conn.socket.write(bytes);
    conn.unsent = n >= bytes.length ? null : bytes.subarray(Math.max(n, 0));
    if (conn.unsent === null) written(conn);
    // A client that does not read its answer holds the connection only so long.
    else if (conn.armed !== "write") arm(conn, "write", limits.bodyMs);
  };

  /** The whole answer is on its way: end the connection, or read the next request. */
  const written = (conn: Conn): void => {
    conn.busy = false;
    if (conn.closing || stopping) {
      conn.lingering = true;
      arm(conn, "linger", limits.lingerMs);
      conn.socket.end();
      return;
    }
    arm(conn, "idle", limits.idleMs);
    serve(conn);
  };

  const respond = async (conn: Conn, response: Response, keepAlive: boolean, headOnly: boolean): Promise<void> => {
    const body = new Uint8Array(await response.arrayBuffer());
    if (conn.closed) return;
    conn.closing ||= !keepAlive || stopping;
    const lines = [`HTTP/1.1 ${response.status} ${REASONS[response.status] ?? "Unknown"}`];
    for (const [name, value] of response.headers) if (name !== "content-length" && name !== "connection") lines.push(`${name}: ${value}`);
    lines.push(`content-length: ${body.length}`, `date: ${new Date(clock.now()).toUTCString()}`, `connection: ${conn.closing ? "close" : "keep-alive"}`);
    const head = Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1");
    write(conn, headOnly ? head : Buffer.concat([head, body]));
  };

  /** Reads as many requests as are complete; answers them one at a time, in order. */
  const serve = (conn: Conn): void => {
    if (conn.busy || conn.lingering) return;
    let request: ParsedRequest | undefined;
    try {
      request = conn.parser.next();
    } catch (error) {
      conn.busy = true;
      conn.closing = true;
      disarm(conn);
      void respond(conn, options.refuse(error), false, false);
      return;
    }
    if (request === undefined) {
      const head = conn.parser.currentHead;
      if (head !== null && conn.armed !== "body") {
        arm(conn, "body", limits.bodyMs);
        if (head.expectsContinue) conn.socket.write("HTTP/1.1 100 Continue\r\n\r\n");
      } else if (head === null && conn.parser.started && conn.armed !== "head" && conn.armed !== "fresh") {
        arm(conn, "head", limits.headMs);
      }
      return;
    }
    conn.busy = true;
    disarm(conn);
    const { head } = request;
    void options.answer(request, conn.socket.remoteAddress).then(
      (response) => respond(conn, response, head.keepAlive, head.method === "HEAD"),
      (error) => respond(conn, options.refuse(error), false, false),
    );
  };

  const listen = (tls: TlsMaterial | undefined, port: number): TCPSocketListener<Conn> =>
    Bun.listen<Conn>({
      hostname: options.hostname,
      port,
      // Never shared with another process: two daemons behind one API port would split the mappings
      // between them (Bun.serve in production mode sets SO_REUSEPORT unless told otherwise).
      exclusive: true,
      tls: tls && { cert: tls.cert, key: tls.key },
      socket: {
        open(socket) {
          if (stopping || ((conns.size >= limits.maxConnections || !options.admit()) && !evict())) {
            options.onRefused?.();
            socket.terminate();
            return;
          }
          const conn: Conn = {
            socket, parser: new RequestParser(limits), busy: false, closing: false, lingering: false,
            closed: false, unsent: null, cancelDeadline: () => {}, armed: "none",
          };
          socket.data = conn;
          conns.add(conn);
          arm(conn, "fresh", limits.headMs);
        },
        handshake(socket, success) {
          if (!success) socket.terminate();
        },
        data(socket, chunk) {
          const conn = socket.data;
          if (conn === undefined || conn.lingering) return;
          conn.parser.feed(chunk);
          // Pipelined requests wait while one is answered; a client that sends far ahead is cut off.
          if (conn.busy && conn.parser.bufferedBytes > limits.maxHeadBytes + limits.maxBodyBytes) socket.terminate();
          else serve(conn);
        },
        drain(socket) {
          const conn = socket.data;
          if (conn?.unsent) write(conn, conn.unsent);
        },
        close(socket) {
          const conn = socket.data;
          if (conn === undefined || !conns.delete(conn)) return;
          conn.closed = true;
          conn.cancelDeadline();
          if (stopping && conns.size === 0) markDrained();
        },
        error() {
          // `close` follows and does the cleanup
        },
      },
    });

  let listener = listen(options.tls, options.port);
  return {
    get port() {
      return listener.port;
    },
    get connections() {
      return conns.size;
    },
    setTls(tls) {
      // Bun cannot swap the certificate of a listening socket: bind the port again at once with the new
      // pair; connections already open keep theirs.
      const port = listener.port;
      listener.stop(false);
      listener = listen(tls, port);
    },
    async stop() {
      if (!stopping) {
        stopping = true;
        listener.stop(false);
        for (const conn of conns) if (!conn.busy) conn.socket.terminate();
        if (conns.size === 0) markDrained();
      }
      const cancel = clock.after(limits.lingerMs, () => {
        for (const conn of conns) conn.socket.terminate();
        markDrained();
      });
      await drained;
      cancel();
    },
  };
}

const REASONS: Record<number, string> = {
  200: "OK",
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Content Too Large",
  500: "Internal Server Error",
  503: "Service Unavailable",
  507: "Insufficient Storage",
};
