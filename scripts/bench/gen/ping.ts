// Latency client: one request of `size` bytes at a time, the next only when the whole answer is back; round trips in µs.
import { emit } from "./io.ts";
import { dial, randomPayload, type Target } from "./net.ts";

export interface PingSpec {
  role: "ping";
  target: Target;
  tls: boolean;
  size: number;
  warmup: number;
  count: number;
}

export async function runPing(spec: PingSpec): Promise<void> {
  const request = randomPayload(spec.size);
  const samples = new Float64Array(spec.count);
  const total = spec.warmup + spec.count;
  let round = 0;
  let pending = spec.size;
  let sentAt = 0;
  const { promise: finished, resolve } = Promise.withResolvers<void>();

  const send = () => {
    pending = spec.size;
    sentAt = Bun.nanoseconds();
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
        if (round >= spec.warmup) samples[round - spec.warmup] = rtt;
        if (++round === total) resolve();
        else send();
      },
    },
    0,
  );
  send();
  await finished;
  // Every sample goes back (tenths of a µs), so the benchmark can pool repetitions before taking tail percentiles.
  emit("done", { count: spec.count, samples: Array.from(samples, (v) => Math.round(v * 10)) });
  conn.socket.end();
}
