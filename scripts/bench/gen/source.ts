// Throughput sender: one connection per target, each writing its share of random bytes as fast as the path takes them.
import { emit, ownCpuSeconds, wallMs } from "./io.ts";
import { dialAll, randomPayload, type Conn, type Target } from "./net.ts";

export interface SourceSpec {
  role: "source";
  targets: Target[];
  tls: boolean;
  bytesPerStream: number;
  chunkBytes: number;
}

interface Stream {
  left: number;
  offset: number;
}

export async function runSource(spec: SourceSpec): Promise<void> {
  const chunk = randomPayload(spec.chunkBytes);
  let running = 0;
  let sent = 0;
  let startedAt = 0;
  const cpu0 = ownCpuSeconds();

  const pump = (conn: Conn) => {
    const stream = conn.user as Stream | undefined;
    if (stream === undefined) return; // a drain before sending began
    while (stream.left > 0) {
      const want = Math.min(chunk.byteLength - stream.offset, stream.left);
      const written = Math.max(0, conn.socket.write(chunk, stream.offset, want));
      stream.left -= written;
      sent += written;
      stream.offset = (stream.offset + written) % chunk.byteLength;
      if (written < want) return; // the socket is full: drain calls pump again
    }
    conn.socket.end();
    if (--running === 0) {
      emit("done", { bytes: sent, seconds: (wallMs() - startedAt) / 1000, cpu: ownCpuSeconds() - cpu0, startedAt, dialAt });
    }
  };

  const dialAt = wallMs();
  const conns = await dialAll(spec.targets, spec.tls, { ready: () => {}, data: () => {}, drain: pump });
  running = conns.length;
  emit("connected", { streams: conns.length, seconds: (wallMs() - dialAt) / 1000 });
  startedAt = wallMs();
  for (const conn of conns) {
    conn.user = { left: spec.bytesPerStream, offset: 0 } satisfies Stream;
    pump(conn);
  }
}
