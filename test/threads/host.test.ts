// The relay on several threads, as the daemon hosts it: spreading, counters from shared memory, log lines, port_in_use,
// bind retry at restore, and a thread that dies being noticed and its mappings relaying again.
import { expect, test } from "bun:test";
import { systemClock } from "../../src/clock.ts";
import { isConnectorError } from "../../src/errors.ts";
import { createLogger } from "../../src/log.ts";
import type { MappingState, RelayMapping } from "../../src/relay/types.ts";
import { createThreadedRelay, type ThreadedRelay, type ThreadedRelayOptions } from "../../src/threads/index.ts";
import { until, within } from "../support/endpoint.ts";
import { holdPort } from "../support/hold-port.ts";
import { publicPingPong as pingPong, rawConnect } from "../support/raw-socket.ts";
import { describeMapping } from "../support/relay-harness.ts";

function startThreads(threads: number, options: Partial<ThreadedRelayOptions> = {}) {
  const lines: string[] = [];
  const log = createLogger({ level: "debug", write: (line) => void lines.push(line) });
  const relay = createThreadedRelay({ threads, log, clock: systemClock(), relay: { hostname: "127.0.0.1", bindRetryMs: 50 }, publishEveryMs: 20, ...options });
  return {
    relay,
    lines,
    async open(kind: "public" | "private"): Promise<RelayMapping> {
      for (let attempt = 1; ; attempt++) {
        const mapping = describeMapping(kind);
        try {
          await relay.open(mapping, { retry: false });
          return mapping;
        } catch (error) {
          if (!isConnectorError(error, "port_in_use") || attempt === 5) throw error;
        }
      }
    },
    async [Symbol.asyncDispose]() {
      await relay.shutdown(0);
      log.close();
    },
  };
}

const portOf = (relay: ThreadedRelay, id: string) => relay.state(id)!;

test("mappings go to the thread with the fewest; each relays, and its counters reach states() from shared memory", async () => {
  await using t = startThreads(2);
  expect(t.relay.threads).toEqual([undefined, undefined]); // a thread starts with its first mapping
  const mappings = [await t.open("public"), await t.open("public"), await t.open("public"), await t.open("private")];
  expect(mappings.map((m) => t.relay.threadOf(m.id))).toEqual([0, 1, 0, 1]);
  t.relay.close(mappings[2]!.id);
  const fifth = await t.open("public");
  expect(t.relay.threadOf(fifth.id)).toBe(0);
  for (const mapping of [mappings[0]!, mappings[1]!]) await pingPong(mapping);
  await until(() => portOf(t.relay, mappings[1]!.id).port2.bytesIn === 4 && portOf(t.relay, mappings[1]!.id).port1.bytesIn === 4, 5000, "bytes published");
  const state = portOf(t.relay, mappings[1]!.id);
  expect(state.port1.port).toBe(mappings[1]!.port1);
  expect(state.port1.active).toBe(true);
  expect(state.port2.bytesOut).toBe(4);
  expect(t.relay.states().map((s) => s.id).sort()).toEqual([mappings[0]!.id, mappings[1]!.id, mappings[3]!.id, fifth.id].sort());
  expect(t.relay.state(mappings[2]!.id)).toBeUndefined();
});

test("a thread with more mappings than it publishes in one turn publishes all of them, the last opened too", async () => {
  await using t = startThreads(1);
  const mappings: RelayMapping[] = [];
  for (let i = 0; i < 1100; i++) mappings.push(await t.open("public"));
  for (const mapping of [mappings[0]!, mappings.at(-1)!]) {
    await pingPong(mapping);
    await until(() => portOf(t.relay, mapping.id).port1.bytesIn === 4, 5000, `the bytes of slot ${mappings.indexOf(mapping)} published`);
  }
});

test("a new mapping on a held port fails with port_in_use and nothing stays bound; at restore it retries, and the thread's log lines reach the daemon's log", async () => {
  await using t = startThreads(2);
  const mapping = describeMapping("public");
  await using held = await holdPort(mapping.port2, "127.0.0.1");
  const error = await t.relay.open(mapping, { retry: false }).catch((e: unknown) => e);
  expect(isConnectorError(error, "port_in_use")).toBe(true);
  expect((error as { details: { port: number } }).details.port).toBe(mapping.port2);
  expect(t.relay.state(mapping.id)).toBeUndefined();

  await t.relay.open(mapping, { retry: true });
  await until(() => t.lines.some((line) => line.includes(`port ${mapping.port2} cannot be bound yet`)), 5000, "the retry warning from the relay thread");
  expect(t.relay.state(mapping.id)!.port2.active).toBe(false);
  await held.release();
  await until(() => t.relay.state(mapping.id)!.port2.active, 5000, "the port bound once freed");
  await pingPong(mapping);
});

test("a relay thread that dies is logged with what it carried, started again, and its mappings relay again with their counters kept", async () => {
  await using t = startThreads(2);
  const mappings = [await t.open("public"), await t.open("public"), await t.open("public")];
  const victim = t.relay.threadOf(mappings[0]!.id)!;
  await pingPong(mappings[0]!);
  await until(() => t.relay.state(mappings[0]!.id)!.port1.bytesIn === 4, 5000, "bytes published");
  const closed = Promise.withResolvers<void>();
  const worker = t.relay.threads[victim]!.worker;
  worker.addEventListener("close", () => closed.resolve());
  worker.terminate(); // not asked for through the host: a crash
  await closed.promise;
  expect(t.relay.restarts).toBe(1);
  expect(t.lines.some((line) => line.includes("[ERROR]") && line.includes(`Relay thread ${victim} stopped unexpectedly`) && line.includes("it carried 2 mappings"))).toBe(true);
  expect(t.relay.threads[victim]!.worker).not.toBe(worker);
  await until(() => mappings.every((m) => t.relay.state(m.id)!.port1.active && t.relay.state(m.id)!.port2.active), 5000, "every mapping listening again");
  for (const mapping of mappings) await pingPong(mapping);
  await until(() => t.relay.state(mappings[0]!.id)!.port1.bytesIn === 8, 5000, "bytes counted across the restart");
  expect(t.relay.states()).toHaveLength(3);
});

test("a relay thread that dies again soon after it was started waits before the next start, and new mappings go to the others meanwhile", async () => {
  await using t = startThreads(2);
  const mapping = await t.open("public");
  const victim = t.relay.threadOf(mapping.id)!;
  const kill = async () => {
    const worker = t.relay.threads[victim]!.worker;
    const closed = Promise.withResolvers<void>();
    worker.addEventListener("close", () => closed.resolve());
    worker.terminate(); // not asked for through the host: a crash
    await closed.promise;
  };
  await kill();
  await until(() => t.relay.state(mapping.id)!.port1.active, 5000, "the mapping reopened after the first death");
  const dead = t.relay.threads[victim]!.worker;
  await kill();
  expect(t.relay.restarts).toBe(2);
  expect(t.relay.state(mapping.id)!.port1.active).toBe(false);
  expect(t.lines.some((line) => line.includes(`Relay thread ${victim} stopped unexpectedly`) && line.includes("starting it again in 1 s"))).toBe(true);
  const other = await t.open("public");
  expect(t.relay.threadOf(other.id)).not.toBe(victim);
  await until(() => t.relay.threads[victim]!.worker !== dead && t.relay.state(mapping.id)!.port1.active, 10_000, "the mapping reopened after the delay");
  await pingPong(mapping);
  await pingPong(other);
});

test("close resolves once the relay thread has closed the mapping's listeners: its ports can be bound at once", async () => {
  await using t = startThreads(2);
  const mapping = await t.open("private");
  await t.relay.close(mapping.id);
  for (const port of [mapping.port1, mapping.port2]) Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {} } }).stop(true);
  expect(t.relay.state(mapping.id)).toBeUndefined();
});

test("what a mapping counted after its last publication is handed over when it closes, so totals kept past it stay exact", async () => {
  const closed: MappingState[] = [];
  // No publication on the timer during the test: only open and close publish.
  await using t = startThreads(1, { publishEveryMs: 600_000, onClosed: (late) => void closed.push(late) });
  const mapping = await t.open("public");
  using stranger = await rawConnect(mapping.port1);
  stranger.socket.write("x".repeat(36));
  await within(10_000, "the wrong passcode refused", stranger.closed);
  expect(t.relay.state(mapping.id)!.port1.rejectedPasscode).toBe(0); // not published yet
  t.relay.close(mapping.id);
  await until(() => closed.length === 1, 5000, "the close answered");
  expect(closed[0]!.id).toBe(mapping.id);
  expect(closed[0]!.port1.rejectedPasscode).toBe(1);
  expect(closed[0]!.port1.authorized).toBe(0);
  const again = await t.open("public"); // the slot is given again, cleared
  expect(t.relay.state(again.id)!.port1.rejectedPasscode).toBe(0);
});

test("shutdown flushes, stops every thread and frees the ports", async () => {
  const t = startThreads(2);
  const mapping = await t.open("public");
  await pingPong(mapping);
  await t[Symbol.asyncDispose]();
  expect(t.relay.restarts).toBe(0);
  for (const port of [mapping.port1, mapping.port2]) {
    const listener = Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {} } });
    listener.stop(true);
  }
  await expect(t.relay.open(describeMapping("public"), { retry: false })).rejects.toThrow("shutting down");
});
