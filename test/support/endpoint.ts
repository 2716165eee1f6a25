// A test-side socket (public client, microservice, agent link) with awaitable writes that honour backpressure and a digest of what it read.
import type { Socket, SocketHandler, TCPSocketListener } from "bun";
import { readFileSync } from "node:fs";
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

/** Polls `condition` every few ms until it holds; fails after `ms`, describing what it waited for. */
export async function until(condition: () => boolean, ms: number, what: string | (() => string)): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms: ${typeof what === "string" ? what : what()}`);
    await Bun.sleep(2);
  }
}

export class Endpoint {
  socket!: Socket<Endpoint>;
  received = 0;
  reads: Uint8Array[] | null;
  /** Replaces the default accounting of reads when set (the agent client uses it). */
  onRead: ((chunk: Uint8Array) => void) | null = null;
  onDrained: (() => void) | null = null;
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
    await until(() => this.received >= bytes || this.isClosed, ms, () => `${bytes} bytes (have ${this.received})`);
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
    },
    error() {},
  };

  /** Set before connecting: the socket is ready only after its TLS handshake. */
  tls = false;
}

/**
 * A read handler that writes each read of `source` into `target` as its own write, pausing `source`
 * while `target` cannot take more, as a program that copies between two sockets does.
 */
export function forwarder(source: Endpoint, target: Endpoint): (chunk: Uint8Array) => void {
  let queued: Uint8Array[] = [];
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
  void target.closed.then(() => (queued = []));
  return (chunk) => {
    if (target.isClosed) return;
    if (queued.length > 0) {
      queued.push(chunk);
      return;
    }
    const n = target.socket.write(chunk);
    if (n < chunk.length) {
      queued.push(chunk.subarray(Math.max(0, n)));
      source.socket.pause();
    }
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

/** A plain TCP server on 127.0.0.1 whose accepted sockets become Endpoints handed to `onAccept`. */
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

/** A port that was free a moment ago. */
export function freePort(): number {
  return freePorts(1)[0]!;
}

/**
 * Distinct ports that were free a moment ago, every probe held until all are known. They are drawn below
 * the kernel's ephemeral range: asking for port 0 there slows down badly once thousands of earlier test
 * connections linger in TIME_WAIT, and a fixed port binds at once (Bun sets SO_REUSEADDR).
 */
export function freePorts(count: number): number[] {
  const ephemeralStart = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
  const low = 10_000;
  const high = Math.max(low + 1000, Math.min(ephemeralStart, 65_536));
  const probes: TCPSocketListener[] = [];
  try {
    for (let attempt = 0; probes.length < count && attempt < count * 20; attempt++) {
      const port = low + Math.floor(Math.random() * (high - low));
      if (probes.some((probe) => probe.port === port)) continue;
      try {
        probes.push(Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {} } }));
      } catch {
        // Taken: draw another.
      }
    }
    if (probes.length < count) throw new Error(`found only ${probes.length} of ${count} free ports`);
    return probes.map((probe) => probe.port);
  } finally {
    for (const probe of probes) probe.stop(true);
  }
}

/** A microservice that sends back everything it reads, honouring backpressure. */
export function echoServer(): EndpointServer {
  return serve((ep) => (ep.onRead = forwarder(ep, ep)));
}
