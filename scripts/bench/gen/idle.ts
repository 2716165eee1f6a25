// Idle agents: thousands of authorized agent connections that only send BEAT every 20 s, spread evenly over the interval.
import { emit, onCommands } from "./io.ts";
import { dial, expand, type Conn, type Target } from "./net.ts";

export interface IdleSpec {
  role: "idle";
  targets: Target[];
  tls: boolean;
  /** Connections dialled at once. */
  concurrency: number;
  beatMs: number;
  /** Connection counts to stop at (cumulative); each reached count is reported, then "more" goes on to the next. */
  stages: number[];
}

export async function runIdle(spec: IdleSpec): Promise<void> {
  const targets = expand(spec.targets);
  const conns: Conn[] = [];
  let failed = 0;
  let closed = 0;
  let beatsSent = 0;
  let beatsAnswered = 0;
  let next = 0;
  const handlers = {
    ready: () => {},
    data: (_conn: Conn, chunk: Uint8Array) => void (beatsAnswered += Math.floor(chunk.byteLength / 4)),
    closed: () => void closed++,
  };
  const dialUpTo = async (count: number) => {
    const worker = async () => {
      while (next < Math.min(count, targets.length)) {
        const index = next++;
        try {
          conns.push(await dial(targets[index]!, spec.tls, handlers, index));
        } catch {
          failed++;
        }
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: spec.concurrency }, worker));
    emit("ready", { connected: conns.length, failed, seconds: (performance.now() - started) / 1000 });
  };

  // Every connection beats once per interval, at its own phase: a steady trickle of heartbeats.
  let cursor = 0;
  setInterval(() => {
    const perTick = Math.ceil(conns.length / (spec.beatMs / 10));
    for (let i = 0; i < perTick && conns.length > 0; i++) {
      conns[cursor % conns.length]!.socket.write("BEAT");
      beatsSent++;
      cursor++;
    }
  }, 10);

  const stages = [...spec.stages];
  onCommands((line) => {
    if (line === "stats") emit("stats", { connected: conns.length, closed, beatsSent, beatsAnswered });
    if (line === "more" && stages.length > 0) void dialUpTo(stages.shift()!);
  });
  await dialUpTo(stages.shift() ?? targets.length);
}
