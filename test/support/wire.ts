// Minimal relay-protocol client steps used by tests that only need to know whether a passcode is accepted.

/** Connects to 127.0.0.1:port, writes the passcode and resolves true if `AUTHORIZED` comes back, false on close. */
export async function authorize(port: number, passcode: string, timeoutMs = 5000): Promise<boolean> {
  const { promise, resolve } = Promise.withResolvers<boolean>();
  let received = "";
  const timer = setTimeout(() => resolve(false), timeoutMs);
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      open: (s) => void s.write(passcode),
      data(_, chunk) {
        received += chunk.toString("latin1");
        if (received.startsWith("AUTHORIZED")) resolve(true);
      },
      close: () => resolve(false),
      error: () => resolve(false),
      connectError: () => resolve(false),
    },
  }).catch(() => undefined);
  const result = await promise;
  clearTimeout(timer);
  socket?.end();
  return result;
}
