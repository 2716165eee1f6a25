// Idle strangers: TCP connections that never send a byte, from a chosen source address, opened at once or redialled as fast as they close.
import { connect, type Socket } from "node:net";
import { join } from "node:path";

export interface IdleCrowd {
  /** Connections still open from this side. */
  readonly open: number;
  /** Connections the Connector closed. */
  readonly closed: number;
  [Symbol.dispose](): void;
}

/** Opens `count` idle connections to 127.0.0.1:port from `localAddress`; resolves once each is connected or closed. */
export async function idleCrowd(port: number, count: number, localAddress = "127.0.0.1"): Promise<IdleCrowd> {
  const sockets: Socket[] = [];
  let closed = 0;
  let disposed = false;
  await Promise.all(
    Array.from({ length: count }, () => {
      const { promise, resolve } = Promise.withResolvers<void>();
      const socket = connect({ host: "127.0.0.1", port, localAddress }, resolve);
      socket.on("error", resolve);
      socket.on("close", () => {
        if (!disposed) closed++;
        resolve();
      });
      sockets.push(socket);
      return promise;
    }),
  );
  return {
    get open() {
      return sockets.filter((s) => !s.destroyed).length;
    },
    get closed() {
      return closed;
    },
    [Symbol.dispose]() {
      disposed = true;
      for (const socket of sockets) socket.destroy();
    },
  };
}

export interface Flood {
  /** Stops the flood; how many connections it made and for how long. */
  stop(): Promise<{ made: number; ms: number }>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * A process of its own keeps `open` idle connections to 127.0.0.1:port from `localAddress`, dialling
 * again each one the Connector closes, so the rate is as high as the Connector accepts, until stopped.
 */
export function flood(port: number, localAddress: string, open: number): Flood {
  const child = Bun.spawn([process.execPath, join(import.meta.dir, "flood-process.ts"), String(port), localAddress, String(open)], {
    stdout: "pipe",
    stderr: "inherit",
  });
  const output = new Response(child.stdout).text();
  const kill = async () => {
    if (child.exitCode === null) child.kill("SIGKILL");
    await child.exited;
  };
  return {
    async stop() {
      child.kill("SIGTERM");
      const exited = await Promise.race([child.exited, Bun.sleep(5000).then(() => undefined)]);
      if (exited === undefined) await kill();
      const line = await output;
      return line ? JSON.parse(line) : { made: -1, ms: 0 };
    },
    [Symbol.asyncDispose]: kill,
  };
}
