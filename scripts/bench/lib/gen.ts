// Runs a load-generator process and reads its JSON event lines, each read bounded by a deadline.
import type { Subprocess } from "bun";
import { join } from "node:path";
import type { GenSpec } from "../gen/main.ts";
import { fold } from "../gen/net.ts";
import { spawnTracked, stopChild } from "./children.ts";
import { within } from "./wait.ts";

const entry = join(import.meta.dir, "..", "gen", "main.ts");

export type GenEvent = { event: string } & Record<string, unknown>;

export interface Gen {
  readonly pid: number;
  /** The next event named `name`; an "error" event or the process ending first rejects. */
  next(name: string, ms: number): Promise<GenEvent>;
  send(line: string): void;
  stop(): Promise<void>;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export function startGen(spec: DistributiveOmit<GenSpec, "deadlineMs">, deadlineMs: number): Gen {
  const compact = "targets" in spec && spec.targets ? { ...spec, targets: fold(spec.targets) } : spec;
  const child: Subprocess<"pipe", "pipe", "inherit"> = spawnTracked(
    [process.execPath, entry, JSON.stringify({ ...compact, deadlineMs })],
    { stdin: "pipe", stdout: "pipe", stderr: "inherit" },
  ) as Subprocess<"pipe", "pipe", "inherit">;
  const queue: GenEvent[] = [];
  const waiters: Array<() => void> = [];
  let ended = false;
  const wake = () => waiters.splice(0).forEach((w) => w());

  void (async () => {
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const bytes of child.stdout) {
      buffered += decoder.decode(bytes, { stream: true });
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line.startsWith("{")) queue.push(JSON.parse(line) as GenEvent);
      }
      wake();
    }
    ended = true;
    wake();
  })();

  async function take(name: string): Promise<GenEvent> {
    for (;;) {
      const index = queue.findIndex((e) => e.event === name || e.event === "error");
      if (index >= 0) {
        const [event] = queue.splice(index, 1);
        if (event!.event === "error") throw new Error(`${spec.role} generator: ${String(event!.message)}`);
        return event!;
      }
      if (ended) throw new Error(`${spec.role} generator exited (code ${await child.exited}) before "${name}"`);
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  }

  return {
    pid: child.pid,
    next: (name, ms) => within(take(name), ms, `${spec.role} generator event "${name}"`),
    send(line) {
      child.stdin.write(`${line}\n`);
      child.stdin.flush();
    },
    async stop() {
      await stopChild(child, 1000);
    },
  };
}
