// A relay engine in a process of its own, driven over stdin/stdout, so tests can measure its memory alone.
// Commands, one per line: `open <count> <public|private>` → {"mappings":[...],"rssBefore","rssAfter"};
// `rss` → {"rss":bytes}; `state` → {"states":[...]}. Memory is measured after a full GC.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { systemClock } from "../../src/clock.ts";
import { isConnectorError } from "../../src/errors.ts";
import { createLogger } from "../../src/log.ts";
import { createRelay } from "../../src/relay/index.ts";
import type { RelayMapping } from "../../src/relay/types.ts";
import { freePorts } from "./endpoint.ts";

const relay = createRelay({ log: createLogger({ level: "warn", write: () => {} }), clock: systemClock(), hostname: "127.0.0.1" });


const rss = () => {
  Bun.gc(true);
  const status = readFileSync("/proc/self/status", "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
};

const reply = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

for await (const line of console) {
  const [command, count, kind] = line.trim().split(" ");
  if (command === "rss") reply({ rss: rss() });
  else if (command === "open") {
    const ports = freePorts(2 * Number(count));
    const mappings: RelayMapping[] = Array.from({ length: Number(count) }, (_, i) => ({
      id: randomUUID(),
      kind: kind === "private" ? "private" : "public",
      port1: ports[2 * i]!,
      port2: ports[2 * i + 1]!,
      passcode1: randomUUID(),
      passcode2: kind === "private" ? randomUUID() : "",
      maxConnections1: 60,
      maxConnections2: kind === "private" ? 60 : 0,
      heartbeatThreshold1: 0,
      heartbeatThreshold2: 0,
    }));
    // Measured with the mapping descriptions already built, so that only the engine's own cost shows.
    const rssBefore = rss();
    for (const mapping of mappings) {
      // A port taken since it was probed (by another test run) is swapped for a fresh one.
      for (let attempt = 1; ; attempt++) {
        try {
          await relay.open(mapping, { retry: false });
          break;
        } catch (error) {
          if (!isConnectorError(error, "port_in_use") || attempt === 5) throw error;
          [mapping.port1, mapping.port2] = freePorts(2) as [number, number];
        }
      }
    }
    reply({ mappings, rssBefore, rssAfter: rss() });
  } else if (command === "state") reply({ states: relay.states() });
}
await relay.shutdown(0);
