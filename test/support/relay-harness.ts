// A relay engine on 127.0.0.1 for tests: captured log lines, free ports, mappings with fresh passcodes, cleanup on dispose.
import { randomUUID } from "node:crypto";
import { systemClock, type Clock } from "../../src/clock.ts";
import { isConnectorError } from "../../src/errors.ts";
import { createLogger } from "../../src/log.ts";
import { createRelay } from "../../src/relay/index.ts";
import type { Relay, RelayMapping, RelayOptions } from "../../src/relay/types.ts";
import type { AgentOptions } from "./agent-client.ts";
import { freePorts } from "./endpoint.ts";

export interface TestRelay {
  relay: Relay;
  clock: Clock;
  lines: string[];
  /** The certificate agents and clients must trust; undefined for plain TCP. */
  ca: string | undefined;
  /** Opens a mapping on two free ports with fresh passcodes. */
  open(kind: "public" | "private", overrides?: Partial<RelayMapping>): Promise<RelayMapping>;
  /** What an agent needs to dial `side` of `mapping`. */
  agent(mapping: RelayMapping, side?: 1 | 2, extra?: Partial<AgentOptions>): AgentOptions;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A mapping on two free ports with fresh passcodes, as the control plane would describe it. */
export function describeMapping(kind: "public" | "private", overrides: Partial<RelayMapping> = {}): RelayMapping {
  const [port1, port2] = freePorts(2) as [number, number];
  return {
    id: randomUUID(),
    kind,
    port1,
    port2,
    passcode1: randomUUID(),
    passcode2: kind === "private" ? randomUUID() : "",
    maxConnections1: kind === "public" ? 60 : 1,
    maxConnections2: kind === "public" ? 0 : 1,
    heartbeatThreshold1: 0,
    heartbeatThreshold2: 0,
    ...overrides,
  };
}

export function startRelay(options: Partial<RelayOptions> & { ca?: string } = {}): TestRelay {
  const lines: string[] = [];
  const clock = options.clock ?? systemClock();
  const log = createLogger({ level: "debug", write: (line) => void lines.push(line) });
  const relay = createRelay({ hostname: "127.0.0.1", ...options, log, clock });
  return {
    relay,
    clock,
    lines,
    ca: options.ca,
    async open(kind, overrides = {}) {
      // Another test run may take a probed port before the engine binds it: then draw again.
      for (let attempt = 1; ; attempt++) {
        const mapping = describeMapping(kind, overrides);
        try {
          await relay.open(mapping, { retry: false });
          return mapping;
        } catch (error) {
          if (!isConnectorError(error, "port_in_use") || attempt === 5) throw error;
        }
      }
    },
    agent(mapping, side = 1, extra = {}) {
      return {
        port: side === 1 ? mapping.port1 : mapping.port2,
        passcode: side === 1 ? mapping.passcode1 : mapping.passcode2,
        ca: options.ca,
        redialMs: 10,
        ...extra,
      };
    },
    async [Symbol.asyncDispose]() {
      await relay.shutdown(0);
      log.close();
    },
  };
}
