// Latency client: one request of `size` bytes at a time, the next only when the whole answer is back; round trips in µs.
import { emit, onCommands, wallMs } from "./io.ts";
import { dial, randomPayload, type Target } from "./net.ts";

export interface PingSpec {
  role: "ping";
  target: Target;
  tls: boolean;
  size: number;
  warmup: number;
  count: number;
  /**
   * Run from "ready" until a "stop" line on stdin instead of `count` rounds, and also send back when each
   * round trip began (wall ms), so round trips can be matched to what happened meanwhile.
   */
  timeline?: boolean;
}

export async function runPing(spec: PingSpec): Promise<void> {
  const request = randomPayload(spec.size);
  const total = spec.timeline ? Number.POSITIVE_INFINITY : spec.warmup + spec.count;
  const samples: number[] = [];
  const began: number[] = [];
  let round = 0;
  let pending = spec.size;
  let sentAt = 0;
  const { promise: finished, resolve } = Promise.withResolvers<void>();

  const send = () => {
    pending = spec.size;
    sentAt = Bun.nanoseconds();
    if (spec.timeline) began.push(wallMs());
    conn.socket.write(request);
  };
  const conn = await dial(
    spec.target,
    spec.tls,
    {
      ready: () => {},
      data: (_conn, chunk) => {
        pending -= chunk.byteLength;
        if (pending > 0) return;
        const rtt = (Bun.nanoseconds() - sentAt) / 1000;
        if (round >= spec.warmup) samples.push(rtt);
        if (++round === total) resolve();
        else send();
      },
    },
    0,
  );
  if (spec.timeline) {
    onCommands((line) => line === "stop" && resolve());
    emit("ready");
  }
  send();
  await finished;
  // Every sample goes back (tenths of a µs), so the benchmark can pool repetitions before taking tail percentiles.
  const at = spec.timeline ? { at: began.slice(spec.warmup, spec.warmup + samples.length).map((ms) => Math.round(ms * 100) / 100) } : {};
  emit("done", { count: samples.length, samples: samples.map((v) => Math.round(v * 10)), ...at });
  conn.socket.end();
}
