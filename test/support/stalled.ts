// A client that connects, presents a passcode if given, and then never reads: for tests of full buffers.
import type { Socket } from "bun";

/** Connects and, for agent ports, presents the passcode; the socket then never reads (paused). */
export async function stalled(port: number, passcode?: string): Promise<Socket<undefined>> {
  const { promise, resolve } = Promise.withResolvers<void>();
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      open(s) {
        if (passcode) s.write(passcode);
        else resolve();
      },
      data(s) {
        resolve();
        s.pause();
      },
      close() {},
      error() {},
    },
  });
  await promise;
  return socket;
}
