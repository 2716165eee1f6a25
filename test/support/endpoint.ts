// A test-side socket (public client, microservice, agent link) with awaitable writes that honour backpressure and a digest of what it read.
import type { Socket, SocketHandler, TCPSocketListener } from "bun";
import type { Random } from "./random.ts";

export interface ConnectOptions {
  port: number;
  hostname?: string;
  /** Trust this certificate as the only root and speak TLS; plain TCP when undefined. */
  ca?: string;
  /** Keep every read as it arrived (to check read boundaries). */
  keepReads?: boolean;
}

/** Fails with `what` if `promise` has not settled within `ms`. */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `condition` every few ms until it holds; fails after `ms`. */
export async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms: ${what}`);
    await Bun.sleep(2);
  }
}

export class Endpoint {
  socket!: Socket<Endpoint>;
  received = 0;
  reads: Uint8Array[] | null;
  /** Replaces the default accounting of reads when set (the agent client uses it). */
  onRead: ((chunk: Uint8Array) => void) | null = null;
  onClosed: (() => void) | null = null;
  onDrained: (() => void) | null = null;
  /** Bytes this endpoint read that a pipe still has to write onward. */
  pendingOut: () => number = () => 0;
  readonly closed: Promise<void>;
  isClosed = false;
  private hasher = new Bun.CryptoHasher("sha256");
  private drainWaiter: (() => void) | null = null;
  private readonly ready = Promise.withResolvers<void>();
  private markClosed!: () => void;

  constructor(options: { keepReads?: boolean } = {}) {
    this.reads = options.keepReads ? [] : null;
    this.closed = new Promise((resolve) => (this.markClosed = resolve));
  }

  /** Counts and digests a read (called by the default read path, or by a custom onRead). */
  account(chunk: Uint8Array): void {
    this.received += chunk.length;
    this.hasher.update(chunk);
    this.reads?.push(chunk);
  }

  /** sha256 of everything read so far. */
  digest(): string {
    return this.hasher.copy().digest("hex");
  }

  /** Resolves once the socket is open (after the TLS handshake for TLS). */
  whenReady(): Promise<void> {
    return this.ready.promise;
  }

  /** Writes all of `data`, waiting for drain whenever the kernel buffer is full. */
  async write(data: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < data.length) {
      if (this.isClosed) throw new Error("socket closed while writing");
      const n = this.socket.write(data.subarray(offset));
      if (n < 0) throw new Error("socket closed while writing");
      offset += n;
      if (offset < data.length) await this.drained();
    }
  }

  /** Writes `data` in random slices of 1..maxWrite bytes, now and then pausing up to 3 ms. */
  async writeRandomly(data: Uint8Array, rng: Random, maxWrite = 65536, pauseChance = 0.05): Promise<void> {
    let offset = 0;
    while (offset < data.length) {
      const size = 1 + rng.int(Math.min(maxWrite, data.length - offset));
      await this.write(data.subarray(offset, offset + size));
      offset += size;
      if (rng.next() < pauseChance) await Bun.sleep(rng.int(4));
    }
  }

  /** Waits until `bytes` have been read in all. */
  async waitForBytes(bytes: number, ms = 10_000): Promise<void> {
    await until(() => this.received >= bytes || this.isClosed, ms, `${bytes} bytes (have ${this.received})`);
    if (this.received < bytes) throw new Error(`closed after ${this.received} of ${bytes} bytes`);
  }

  close(): void {
    if (!this.isClosed) this.socket.end();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.isClosed) this.socket.terminate();
    await within(2000, "socket close", this.closed);
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => (this.drainWaiter = resolve));
  }

  /** One handler object for every endpoint socket; each socket's Endpoint is its data. */
  static readonly handler: SocketHandler<Endpoint> = {
    open(socket) {
      socket.data.socket = socket;
      socket.setNoDelay(true);
      // TLS endpoints are ready after their handshake: Bun drops writes made before it.
      if (!socket.data.tls) socket.data.ready.resolve();
    },
    handshake(socket, success, error) {
      if (success) socket.data.ready.resolve();
      else {
        socket.data.ready.reject(error ?? new Error("TLS handshake failed"));
        socket.terminate();
      }
    },
    data(socket, chunk) {
      const ep = socket.data;
      if (ep.onRead) ep.onRead(chunk);
      else ep.account(chunk);
    },
    drain(socket) {
      const ep = socket.data;
      const waiter = ep.drainWaiter;
      ep.drainWaiter = null;
      waiter?.();
      ep.onDrained?.();
    },
    close(socket) {
      const ep = socket.data;
      ep.isClosed = true;
      ep.ready.reject(new Error("closed before ready"));
      ep.drainWaiter?.();
      ep.drainWaiter = null;
      ep.markClosed();
      ep.onClosed?.();
    },
    error() {},
  };

  /** Set before connecting: the socket is ready only after its TLS handshake. */
  tls = false;
}

/**
 * Relays what `source` reads into `target`, pausing `source` while `target` cannot take more, as a
 * program that copies between two sockets does.
 */
export function pipeInto(source: Endpoint, target: Endpoint): void {
  let queued: Uint8Array[] = [];
  source.onRead = (chunk) => {
    if (queued.length > 0 || target.isClosed) {
      queued.push(chunk);
      return;
    }
    const n = target.socket.write(chunk);
    if (n < chunk.length) {
      queued.push(chunk.subarray(Math.max(0, n)));
      source.socket.pause();
    }
  };
  target.onDrained = () => {
    while (queued.length > 0) {
      const chunk = queued[0]!;
      const n = target.socket.write(chunk);
      if (n < chunk.length) {
        queued[0] = chunk.subarray(Math.max(0, n));
        return;
      }
      queued.shift();
    }
    source.socket.resume();
  };
  /** What is still queued for `target` (so a closing source can wait for it). */
  source.pendingOut = () => queued.reduce((sum, c) => sum + c.length, 0);
  target.onClosed = chain(target.onClosed, () => (queued = []));
}

function chain(first: (() => void) | null, second: () => void): () => void {
  return () => {
    first?.();
    second();
  };
}

/** Connects to `port` and resolves once the socket can be written (TLS handshake done and verified). */
export async function connect(options: ConnectOptions): Promise<Endpoint> {
  const ep = new Endpoint(options);
  ep.tls = options.ca !== undefined;
  ep.whenReady().catch(() => {});
  await Bun.connect<Endpoint>({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port,
    data: ep,
    socket: Endpoint.handler,
    tls: options.ca === undefined ? undefined : { ca: options.ca, rejectUnauthorized: true },
  });
  await ep.whenReady();
  return ep;
}

export interface EndpointServer {
  port: number;
  listener: TCPSocketListener<Endpoint>;
  accepted: Endpoint[];
  [Symbol.asyncDispose](): Promise<void>;
}

/** A plain TCP server whose accepted sockets become Endpoints set up by `onAccept`. */
export function serve(onAccept: (ep: Endpoint) => void, options: { keepReads?: boolean } = {}): EndpointServer {
  const accepted: Endpoint[] = [];
  const listener = Bun.listen<Endpoint>({
    hostname: "127.0.0.1",
    port: 0,
    data: undefined as unknown as Endpoint,
    socket: {
      ...Endpoint.handler,
      open(socket) {
        const ep = new Endpoint(options);
        ep.whenReady().catch(() => {});
        socket.data = ep;
        Endpoint.handler.open!(socket);
        accepted.push(ep);
        onAccept(ep);
      },
    },
  });
  return {
    port: listener.port,
    listener,
    accepted,
    async [Symbol.asyncDispose]() {
      listener.stop(true);
      await within(2000, "server sockets close", Promise.all(accepted.map((ep) => ep.closed)));
    },
  };
}

/** Resolves with a port that was free a moment ago (bound on port 0 and released). */
export function freePort(): number {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}
