// Latency responder: sends every read straight back, listening (direct, HAProxy) or as an agent of the Connector.
import { emit } from "./io.ts";
import { dialAll, listen, type Handlers, type Target, type TlsFiles } from "./net.ts";

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
  if (spec.targets === undefined) {
    const server = listen(spec.listenPort ?? 0, spec.tls ? spec.tlsFiles : undefined, handlers);
    emit("ready", { port: server.port });
    return;
  }
  await dialAll(spec.targets, spec.tls, handlers);
  emit("ready", { connections: spec.targets.length });
}
