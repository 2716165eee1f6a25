// Throughput receiver: listens (direct, HAProxy) or connects as agents (Connector), and counts bytes until all arrived.
import { emit, ownCpuSeconds, wallMs } from "./io.ts";
import { attach, type Handlers, type Target, type TlsFiles } from "./net.ts";

export interface SinkSpec {
  role: "sink";
  /** Agent connections to open; absent: listen on `listenPort`. */
  targets?: Target[];
  listenPort?: number;
  tls: boolean;
  tlsFiles?: TlsFiles;
  expectBytes: number;
}

export async function runSink(spec: SinkSpec): Promise<void> {
  let received = 0;
  let firstAt = 0;
  let done = false;
  const cpu0 = ownCpuSeconds();
  const count = (bytes: number) => {
    if (received === 0) firstAt = wallMs();
    received += bytes;
    if (!done && received >= spec.expectBytes) {
      done = true;
      const lastAt = wallMs();
      emit("done", { bytes: received, seconds: (lastAt - firstAt) / 1000, firstAt, lastAt, cpu: ownCpuSeconds() - cpu0 });
    }
  };
  const handlers: Handlers = {
    ready: (_conn, early) => early && count(early.byteLength),
    data: (_conn, chunk) => count(chunk.byteLength),
  };
  await attach(spec, handlers);
}
