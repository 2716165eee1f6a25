// A plain TCP client on 127.0.0.1 that collects what it reads, for byte-exact assertions.
import type { Socket } from "bun";

export interface RawClient {
  socket: Socket<undefined>;
  /** Everything read so far. */
  received(): Buffer;
  /** Resolves once at least `bytes` have been read (rejects after `timeoutMs`). */
  waitFor(bytes: number, timeoutMs?: number): Promise<Buffer>;
  closed: Promise<void>;
  [Symbol.dispose](): void;
}

export async function rawConnect(port: number): Promise<RawClient> {
  const chunks: Buffer[] = [];
  let size = 0;
  let waiter: { bytes: number; resolve: () => void } | undefined;
  const closed = Promise.withResolvers<void>();
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_, chunk) {
        chunks.push(Buffer.from(chunk));
        size += chunk.byteLength;
        if (waiter && size >= waiter.bytes) waiter.resolve();
      },
      close: () => closed.resolve(),
      error: () => closed.resolve(),
    },
  });
  return {
    socket,
    received: () => Buffer.concat(chunks),
    async waitFor(bytes, timeoutMs = 10_000) {
      if (size < bytes) {
        const { promise, resolve } = Promise.withResolvers<void>();
        waiter = { bytes, resolve };
        const timer = setTimeout(resolve, timeoutMs);
        await promise;
        clearTimeout(timer);
        waiter = undefined;
      }
      if (size < bytes) throw new Error(`read ${size} of ${bytes} bytes in ${timeoutMs} ms`);
      return Buffer.concat(chunks);
    },
    closed: closed.promise,
    [Symbol.dispose]() {
      socket.terminate();
    },
  };
}

/** An agent authorized on port1 and a client on port2 of a public mapping exchange "ping" and "pong" through the relay. */
export async function publicPingPong(mapping: { port1: number; port2: number; passcode1: string }): Promise<void> {
  using agent = await rawConnect(mapping.port1);
  agent.socket.write(mapping.passcode1);
  const authorized = (await agent.waitFor(10)).toString();
  if (authorized !== "AUTHORIZED") throw new Error(`the agent read ${JSON.stringify(authorized)} instead of AUTHORIZED`);
  using client = await rawConnect(mapping.port2);
  client.socket.write("ping");
  const ping = (await agent.waitFor(14)).subarray(10).toString();
  agent.socket.write("pong");
  const pong = (await client.waitFor(4)).toString();
  if (ping !== "ping" || pong !== "pong") throw new Error(`relayed ${JSON.stringify(ping)} and ${JSON.stringify(pong)} instead of ping and pong`);
}
