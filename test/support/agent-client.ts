// An agent-side client that behaves like the deployed Go client of the ioFog network microservice, in public and private mode.
import { connect, forwarder, type Endpoint, until, within } from "./endpoint.ts";

const AUTHORIZED = "AUTHORIZED";
const BEAT = Buffer.from("BEAT");
export const TXEND = Buffer.from("TXEND");
export const ACK = Buffer.from("ACK");

export interface AgentOptions {
  port: number;
  hostname?: string;
  passcode: string;
  /** The Connector's certificate, trusted as the only root: TLS. Plain TCP when undefined (dev mode). */
  ca?: string;
  /** How often BEAT is written (the Go client: 20 s). */
  heartbeatMs?: number;
  /** Silence after which the connection is dropped and dialled again (the Go client: 60 s). */
  silenceMs?: number;
  /** Pause before dialling again after a connection ends. */
  redialMs?: number;
}

const sameBytes = (chunk: Uint8Array, word: Uint8Array | string): boolean =>
  chunk.length === word.length && Buffer.from(chunk).equals(typeof word === "string" ? Buffer.from(word) : word);

/** One authorized connection to the Connector, as the Go client's connection object. */
export class AgentLink {
  heartbeatsHeard = 0;
  payloadReads = 0;
  /** Every payload read (not heartbeats), in order; the default counts it into the endpoint's digest. */
  onPayload: (chunk: Uint8Array) => void;
  /** Why the client dropped the connection itself, if it did. */
  dropped: "silence" | undefined;
  private lastRead = Date.now();
  private writes: Promise<void> = Promise.resolve();
  private readonly timers: ReturnType<typeof setInterval>[] = [];

  constructor(
    readonly ep: Endpoint,
    options: AgentOptions,
  ) {
    this.onPayload = (chunk) => ep.account(chunk);
    const heartbeatMs = options.heartbeatMs ?? 20_000;
    const silenceMs = options.silenceMs ?? 60_000;
    this.timers.push(setInterval(() => void this.send(BEAT).catch(() => {}), heartbeatMs));
    this.timers.push(
      setInterval(() => {
        if (Date.now() - this.lastRead < silenceMs) return;
        this.dropped = "silence";
        ep.socket.terminate();
      }, Math.max(5, Math.min(silenceMs, heartbeatMs) / 4)),
    );
    void ep.closed.then(() => this.timers.forEach(clearInterval));
  }

  /** One read from the Connector, as the Go client's reader sees it. */
  read(chunk: Uint8Array): void {
    this.lastRead = Date.now();
    if (sameBytes(chunk, BEAT) || sameBytes(chunk, "BEATBEAT")) {
      this.heartbeatsHeard++;
      return;
    }
    this.payloadReads++;
    this.onPayload(chunk);
  }

  /** Queues one write; writes go out in order, each as its own socket write, as through the Go client's channel. */
  send(data: Uint8Array): Promise<void> {
    const next = this.writes.then(() => this.ep.write(data));
    this.writes = next.catch(() => {});
    return next;
  }

  /** Resolves when every queued write has been handed to the kernel. */
  flushed(): Promise<void> {
    return this.writes;
  }

  get closed(): Promise<void> {
    return this.ep.closed;
  }

  close(): void {
    this.ep.close();
  }
}

/** Why a dial ended without an authorized connection. */
export class NotAuthorized extends Error {}

/**
 * Dials once: connects (TLS verified against `ca` only), writes the passcode in one write, then reads once
 * into a 10-byte buffer expecting exactly AUTHORIZED; bytes behind it count as the next read.
 */
/**
 * Dials, presents the passcode and resolves with the link once AUTHORIZED is read. `prepare` sees the
 * link before any payload is read: payload may follow AUTHORIZED in the same read.
 */
export async function dialAgent(options: AgentOptions, prepare?: (link: AgentLink) => void): Promise<AgentLink> {
  const ep = await connect({ port: options.port, hostname: options.hostname, ca: options.ca });
  const answer = Promise.withResolvers<AgentLink>();
  let link: AgentLink | undefined;
  ep.onRead = (chunk) => {
    if (link !== undefined) return link.read(chunk);
    if (chunk.length < AUTHORIZED.length || Buffer.from(chunk.subarray(0, AUTHORIZED.length)).toString() !== AUTHORIZED) {
      ep.socket.terminate();
      answer.reject(new NotAuthorized(`expected AUTHORIZED, read ${JSON.stringify(Buffer.from(chunk).toString("latin1"))}`));
      return;
    }
    link = new AgentLink(ep, options);
    prepare?.(link);
    answer.resolve(link);
    if (chunk.length > AUTHORIZED.length) link.read(chunk.subarray(AUTHORIZED.length));
  };
  void ep.closed.then(() => answer.reject(new NotAuthorized("connection closed instead of AUTHORIZED")));
  if (ep.socket.write(options.passcode) !== options.passcode.length) throw new Error("passcode not written in one write");
  return await within(10_000, "AUTHORIZED", answer.promise);
}

export interface PublicAgentOptions extends AgentOptions {
  /** Connections kept open (the Controller asks for 60). */
  connections?: number;
  /** The local microservice dialled when a connection's first payload arrives. */
  target: { port: number; hostname?: string };
}

/**
 * A public-mode agent: keeps `connections` authorized connections open; on the first payload on one it
 * dials the microservice and pipes both ways; when the microservice closes it closes that connection
 * (after the microservice's last bytes) and dials a fresh one; a connection the Connector closes is
 * dialled again too.
 */
export class PublicAgent {
  readonly links = new Set<AgentLink>();
  dials = 0;
  refusals = 0;
  private running = true;

  constructor(readonly options: PublicAgentOptions) {}

  /** Starts dialling and waits until every connection is authorized. */
  async start(ms = 10_000): Promise<this> {
    const wanted = this.options.connections ?? 60;
    for (let i = 0; i < wanted; i++) void this.keepOne();
    await until(() => this.links.size >= wanted, ms, () => `${wanted} authorized agent connections (have ${this.links.size})`);
    return this;
  }

  private keepOne(): Promise<void> {
    return keepDialling(this.options, {
      running: () => this.running,
      dialled: () => void this.dials++,
      refused: () => void this.refusals++,
      prepare: (link) => this.serve(link),
      use: async (link) => {
        this.links.add(link);
        await link.closed;
        this.links.delete(link);
      },
    });
  }

  private serve(link: AgentLink): void {
    let toService: ((chunk: Uint8Array) => void) | undefined;
    const early: Uint8Array[] = [];
    link.onPayload = (chunk) => {
      if (toService !== undefined) return toService(chunk);
      early.push(chunk);
      if (early.length > 1) return;
      link.ep.socket.pause();
      void connect({ port: this.options.target.port, hostname: this.options.target.hostname }).then(
        (service) => {
          if (link.ep.isClosed) return service.close();
          toService = forwarder(link.ep, service);
          // Microservice → Connector through the link's ordered writes, so BEAT never lands inside a chunk.
          let inFlight = 0;
          service.onRead = (chunk) => {
            inFlight++;
            service.socket.pause();
            void link.send(chunk).then(() => {
              if (--inFlight === 0) service.socket.resume();
            }, () => {});
          };
          void service.closed.then(async () => {
            await link.flushed();
            link.close();
          });
          void link.closed.then(() => service.close());
          for (const chunk of early) toService(chunk);
          link.ep.socket.resume();
        },
        () => link.ep.socket.terminate(),
      );
    };
  }

  /** Stops dialling and closes every connection. */
  async stop(): Promise<void> {
    this.running = false;
    const closing = [...this.links].map((link) => link.closed);
    for (const link of this.links) link.ep.socket.terminate();
    await within(5000, "public agent connections close", Promise.all(closing));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

export interface PrivateAgentOptions extends AgentOptions {
  /** Wait for ACK before resending (the Go client: 1 s); doubles with each resend. */
  ackTimeoutMs?: number;
  /** Resends before giving up (the Go client: 4). */
  maxResends?: number;
}

/**
 * A private-mode agent: keeps one connection, dialled again whenever it ends, and frames messages: the
 * message, then a separate write TXEND; the receiver answers ACK; a message without ACK is resent.
 */
export class PrivateAgent {
  link: AgentLink | undefined;
  readonly messages: Buffer[] = [];
  dials = 0;
  sends = 0;
  private incoming: Uint8Array[] = [];
  private waitingAck: (() => void) | null = null;
  private running = true;

  constructor(readonly options: PrivateAgentOptions) {}

  async start(ms = 10_000): Promise<this> {
    void this.keep();
    await until(() => this.link !== undefined, ms, "private agent authorized");
    return this;
  }

  private keep(): Promise<void> {
    return keepDialling(this.options, {
      running: () => this.running,
      dialled: () => void this.dials++,
      refused: () => {},
      prepare: (link) => (link.onPayload = (chunk) => this.read(link, chunk)),
      use: async (link) => {
        this.link = link;
        await link.closed;
        if (this.link === link) this.link = undefined;
      },
    });
  }

  /** Payload bytes of the message being received (before its TXEND). */
  get incomingBytes(): number {
    return this.incoming.reduce((sum, chunk) => sum + chunk.length, 0);
  }

  private read(link: AgentLink, chunk: Uint8Array): void {
    if (sameBytes(chunk, ACK)) {
      const acked = this.waitingAck;
      this.waitingAck = null;
      acked?.();
      return;
    }
    if (sameBytes(chunk, TXEND)) {
      this.messages.push(Buffer.concat(this.incoming));
      this.incoming = [];
      void link.send(ACK).catch(() => {});
      return;
    }
    this.incoming.push(chunk);
  }

  /**
   * Sends one message, TXEND right behind it, and resolves with the number of attempts once it is
   * acknowledged; rejects after `maxResends` resends without ACK.
   */
  async send(message: Uint8Array): Promise<number> {
    const ackTimeoutMs = this.options.ackTimeoutMs ?? 1000;
    const maxResends = this.options.maxResends ?? 4;
    for (let attempt = 0; attempt <= maxResends; attempt++) {
      const link = this.link;
      if (link === undefined) throw new Error("no connection to the Connector");
      const acked = new Promise<void>((resolve) => (this.waitingAck = resolve));
      this.sends++;
      await link.send(message);
      await link.send(TXEND);
      const timeout = ackTimeoutMs * 2 ** attempt;
      const ok = await Promise.race([acked.then(() => true), Bun.sleep(timeout).then(() => false)]);
      if (ok) return attempt + 1;
    }
    this.waitingAck = null;
    throw new Error(`no ACK after ${maxResends} resends`);
  }

  async stop(): Promise<void> {
    this.running = false;
    const link = this.link;
    if (link !== undefined) {
      link.ep.socket.terminate();
      await within(5000, "private agent connection closes", link.closed);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

interface Dialling {
  running(): boolean;
  /** Sets up a new link before its first payload is read. */
  prepare(link: AgentLink): void;
  dialled(): void;
  refused(): void;
  /** Serves one authorized connection until it closes. */
  use(link: AgentLink): Promise<void>;
}

/** Dials, serves the connection until it ends, and dials again while running, as the Go client does. */
async function keepDialling(options: AgentOptions, steps: Dialling): Promise<void> {
  while (steps.running()) {
    steps.dialled();
    try {
      const link = await dialAgent(options, steps.prepare);
      if (!steps.running()) {
        link.ep.socket.terminate();
        return;
      }
      await steps.use(link);
    } catch {
      // Refused, or the Connector could not be reached: dial again.
      steps.refused();
    }
    if (steps.running()) await Bun.sleep(options.redialMs ?? 20);
  }
}
