// Latency responder: sends every read straight back, listening (direct, HAProxy) or as an agent of the Connector.
import { attach, type Handlers, type Target, type TlsFiles } from "./net.ts";

export interface EchoSpec {
  role: "echo";
  targets?: Target[];
  listenPort?: number;
  tls: boolean;
  tlsFiles?: TlsFiles;
}

export async function runEcho(spec: EchoSpec): Promise<void> {
  const handlers: Handlers = {
    ready: (conn, early) => early && conn.socket.write(early),
    data: (conn, chunk) => conn.socket.write(chunk),
  };
  await attach(spec, handlers);
}
