// Sockets for the load generators: plain or TLS, direct or through the relay's agent handshake (passcode, AUTHORIZED).
import type { Socket, TCPSocketListener } from "bun";
import { emit } from "./io.ts";

/** Where a generator connects: a port, the passcode when it plays an agent, and how many connections (1 if absent). */
export interface Target {
  port: number;
  passcode?: string;
  connections?: number;
}

/** One target per connection: specs name each port once with a count, which keeps them small enough for argv. */
export function expand(targets: Target[]): Target[] {
  return targets.flatMap((t) => Array.from({ length: t.connections ?? 1 }, () => ({ port: t.port, passcode: t.passcode })));
}

/** The reverse of expand: runs of equal targets folded into one with a count. */
export function fold(targets: Target[]): Target[] {
  const out: Target[] = [];
  for (const t of targets) {
    const last = out[out.length - 1];
    if (last && last.port === t.port && last.passcode === t.passcode) last.connections = (last.connections ?? 1) + (t.connections ?? 1);
    else out.push({ ...t });
  }
  return out;
}

export interface TlsFiles {
  cert: string;
  key: string;
}

/** One connection as a generator sees it, once it carries payload. */
export interface Conn {
  socket: Socket<State>;
  index: number;
  /** Free slot for the generator's own per-connection state. */
  user: unknown;
}

/** What a generator does with its connections. */
export interface Handlers {
  /** The connection is ready for payload; `early` holds payload that arrived glued to AUTHORIZED. */
  ready(conn: Conn, early: Uint8Array | undefined): void;
  data(conn: Conn, chunk: Uint8Array): void;
  drain?(conn: Conn): void;
  /** The connection is gone (FIN answered, reset or error); called once. */
  closed?(conn: Conn, error?: Error): void;
}

interface State {
  conn: Conn;
  handlers: Handlers;
  passcode: string | undefined;
  /** Bytes of AUTHORIZED still awaited; 0 once payload flows. */
  authLeft: number;
  authText: string;
  gone: boolean;
}

const AUTHORIZED = "AUTHORIZED";
const HOST = "127.0.0.1";

/**
 * Connects to `target`; resolves once payload may flow (after AUTHORIZED for an agent).
 * TLS sockets get no handshake handler, so Bun calls open only after the handshake.
 */
export function dial(target: Target, tls: boolean, handlers: Handlers, index: number): Promise<Conn> {
  const { promise, resolve, reject } = Promise.withResolvers<Conn>();
  const wrapped: Handlers = {
    ...handlers,
    ready(conn, early) {
      resolve(conn);
      handlers.ready(conn, early);
    },
    closed(conn, error) {
      reject(error ?? new Error(`connection ${index} to port ${target.port} closed before it was ready`));
      handlers.closed?.(conn, error);
    },
  };
  const data: State = {
    conn: { socket: undefined as unknown as Socket<State>, index, user: undefined },
    handlers: wrapped,
    passcode: target.passcode,
    authLeft: target.passcode === undefined ? 0 : AUTHORIZED.length,
    authText: "",
    gone: false,
  };
  Bun.connect<State>({
    hostname: HOST,
    port: target.port,
    tls: tls ? { rejectUnauthorized: false } : undefined,
    data,
    socket: { ...common, connectError: (_socket, error) => reject(error) },
  }).catch(reject);
  return promise;
}

/** Listens on a loopback port (0: ephemeral); every accepted connection is ready at once (no handshake). */
export function listen(port: number, tls: TlsFiles | undefined, handlers: Handlers): TCPSocketListener<State> {
  let accepted = 0;
  return Bun.listen<State>({
    hostname: HOST,
    port,
    tls: tls ? { cert: Bun.file(tls.cert), key: Bun.file(tls.key) } : undefined,
    socket: {
      ...common,
      open(socket) {
        socket.data = {
          conn: { socket, index: accepted++, user: undefined },
          handlers,
          passcode: undefined,
          authLeft: 0,
          authText: "",
          gone: false,
        };
        socket.setNoDelay(true);
        handlers.ready(socket.data.conn, undefined);
      },
    },
  });
}

const common = {
  open(socket: Socket<State>) {
    const state = socket.data;
    state.conn.socket = socket;
    socket.setNoDelay(true);
    if (state.passcode === undefined) state.handlers.ready(state.conn, undefined);
    else socket.write(state.passcode);
  },
  data(socket: Socket<State>, chunk: Uint8Array) {
    const state = socket.data;
    if (state.authLeft === 0) {
      state.handlers.data(state.conn, chunk);
      return;
    }
    const take = Math.min(state.authLeft, chunk.byteLength);
    state.authText += Buffer.from(chunk.buffer, chunk.byteOffset, take).toString("latin1");
    state.authLeft -= take;
    if (state.authLeft > 0) return;
    if (state.authText !== AUTHORIZED) {
      socket.terminate();
      return;
    }
    state.handlers.ready(state.conn, take < chunk.byteLength ? chunk.subarray(take) : undefined);
  },
  drain(socket: Socket<State>) {
    socket.data.handlers.drain?.(socket.data.conn);
  },
  end(socket: Socket<State>) {
    socket.end();
  },
  close(socket: Socket<State>, error?: Error) {
    gone(socket.data, error);
  },
  error(socket: Socket<State>, error: Error) {
    gone(socket.data, error);
  },
};

function gone(state: State, error?: Error): void {
  if (state.gone) return;
  state.gone = true;
  state.handlers.closed?.(state.conn, error);
}

/** Random bytes: payload that never reads as BEAT and does not compress. */
export function randomPayload(size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let at = 0; at < size; at += 65536) crypto.getRandomValues(out.subarray(at, Math.min(size, at + 65536)));
  return out;
}

/** Dials every target with at most `concurrency` handshakes in flight; resolves with the connections in target order. */
export async function dialAll(folded: Target[], tls: boolean, handlers: Handlers, concurrency = 256): Promise<Conn[]> {
  const targets = expand(folded);
  const conns: Conn[] = new Array(targets.length);
  let next = 0;
  const worker = async () => {
    while (next < targets.length) {
      const index = next++;
      conns[index] = await dial(targets[index]!, tls, handlers, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, targets.length) }, worker));
  return conns;
}

/** Where a receiving role gets its connections: agent connections it dials, or a port it listens on. */
export interface Attachment {
  targets?: Target[];
  listenPort?: number;
  tls: boolean;
  tlsFiles?: TlsFiles;
}

/** Listens or dials as `spec` says, then reports ready with the port or the number of connections. */
export async function attach(spec: Attachment, handlers: Handlers): Promise<void> {
  if (spec.targets === undefined) {
    const server = listen(spec.listenPort ?? 0, spec.tls ? spec.tlsFiles : undefined, handlers);
    emit("ready", { port: server.port });
    return;
  }
  await dialAll(spec.targets, spec.tls, handlers);
  emit("ready", { connections: spec.targets.length });
}
