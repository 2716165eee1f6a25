// One agent handshake from a chosen source address, over plain TCP or TLS: was the passcode authorized, and how fast.
import { connect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";

export interface Presented {
  result: "authorized" | "closed";
  ms: number;
}

export interface PresentOptions {
  /** Source address of the connection, 127.0.0.1 by default. */
  localAddress?: string;
  /** Speak TLS, trusting this certificate. */
  ca?: string;
  /** Gives up (closed) after this long, ms. Default 10,000. */
  timeoutMs?: number;
}

/** Connects to 127.0.0.1:port, presents `passcode` once connected (after the TLS handshake) and waits for the answer. */
export function present(port: number, passcode: string, options: PresentOptions = {}): Promise<Presented> {
  const { promise, resolve } = Promise.withResolvers<Presented>();
  const began = performance.now();
  const done = (result: Presented["result"]) => resolve({ result, ms: performance.now() - began });
  const target = { host: "127.0.0.1", port, localAddress: options.localAddress ?? "127.0.0.1" };
  const send = () => void socket.write(passcode);
  const socket: Socket = options.ca === undefined ? connect(target, send) : tlsConnect({ ...target, ca: options.ca, servername: "localhost" }, send);
  let received = "";
  socket.on("data", (chunk) => {
    received += chunk.toString("latin1");
    if (received.startsWith("AUTHORIZED")) done("authorized");
  });
  socket.on("close", () => done("closed"));
  socket.on("error", () => done("closed"));
  const timer = setTimeout(() => done("closed"), options.timeoutMs ?? 10_000);
  return promise.finally(() => {
    clearTimeout(timer);
    socket.destroy();
  });
}

/** How many of `tries` are authorized. */
export const authorizedCount = (answers: Presented[]): number => answers.filter((a) => a.result === "authorized").length;
