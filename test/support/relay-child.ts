// Drives test/support/relay-process.ts from a test: spawn, send a command, read its one-line JSON answer.
import { join } from "node:path";
import type { MappingState, RelayMapping } from "../../src/relay/types.ts";
import { within } from "./endpoint.ts";

export interface RelayChild {
  pid: number;
  /** Opens `count` mappings; the engine's memory is measured just before and after. */
  open(count: number, kind: "public" | "private"): Promise<{ mappings: RelayMapping[]; rssBefore: number; rssAfter: number }>;
  /** Resident memory of the engine process after a full GC, bytes. */
  rss(): Promise<number>;
  states(): Promise<MappingState[]>;
  [Symbol.asyncDispose](): Promise<void>;
}

export function spawnRelay(): RelayChild {
  const child = Bun.spawn([process.execPath, join(import.meta.dir, "relay-process.ts")], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  const nextLine = async (): Promise<string> => {
    for (;;) {
      const newline = buffered.indexOf("\n");
      if (newline >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        return line;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error("relay process ended");
      buffered += decoder.decode(value, { stream: true });
    }
  };
  // One command at a time, so that each answer is read by the one who asked.
  let queue: Promise<unknown> = Promise.resolve();
  const ask = (command: string): Promise<any> => {
    const answer = queue.then(async () => {
      child.stdin.write(`${command}\n`);
      child.stdin.flush();
      return JSON.parse(await within(30_000, command, nextLine()));
    });
    queue = answer.catch(() => {});
    return answer;
  };
  return {
    pid: child.pid,
    open: (count, kind) => ask(`open ${count} ${kind}`),
    rss: async () => (await ask("rss")).rss,
    states: async () => (await ask("state")).states,
    async [Symbol.asyncDispose]() {
      child.stdin.end();
      const exited = await Promise.race([child.exited, Bun.sleep(3000).then(() => undefined)]);
      if (exited === undefined) child.kill("SIGKILL");
      await child.exited;
    },
  };
}
