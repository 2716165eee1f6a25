// Keeps the process clear of its descriptor limit: past a reserve, a new relay connection is kept only in place
// of an idle stranger (relay/admission.ts), so the API, the state file and the log can still open files, and the
// operator hears of it once a minute. API connections count too, and may go a little further into the reserve,
// so that the Connector can still be asked for its status while the relay is full.
import { readdirSync } from "node:fs";
import type { Clock } from "./clock.ts";
import type { Logger } from "./log.ts";
import { readOptional } from "./read-optional.ts";

/** Descriptors kept free for the API, state-file writes, the log and listeners being bound. */
export const DESCRIPTOR_RESERVE = 64;
/** The part of the reserve API connections may not use: the state file, the log and a listener being bound. */
export const API_RESERVE = 16;
const REPORT_EVERY_MS = 60_000;

/** The soft limit on open files, from /proc/self/limits; undefined when unknown. */
export function descriptorLimit(text = readOptional("/proc/self/limits")): number | undefined {
  const match = /^Max open files\s+(\d+|unlimited)/m.exec(text ?? "");
  return match && match[1] !== "unlimited" ? Number(match[1]) : undefined;
}

export function openDescriptors(): number | undefined {
  try {
    return readdirSync("/proc/self/fd").length;
  } catch {
    return undefined;
  }
}

export interface DescriptorGate {
  /** Whether one more relayed connection may be kept. */
  admit(): boolean;
  /** Whether one more API connection may be kept (the API server then makes room by closing an idle one). */
  admitApi(): boolean;
  /** Descriptors that may still be opened before the reserve; Infinity when the limit is unknown. */
  free(): number;
}

/**
 * `inUse` estimates the descriptors held beyond those open at start (relayed connections, API
 * connections and listeners), so no admission reads /proc.
 */
export function createDescriptorGate(options: { limit: number | undefined; base: number; inUse: () => number; clock: Clock; log: Logger }): DescriptorGate {
  const { limit, base, inUse, clock, log } = options;
  if (limit === undefined) return { admit: () => true, admitApi: () => true, free: () => Infinity };
  const report = createRefusalReport(clock, (refused) =>
    log.warn(
      `Near the limit of ${limit} open descriptors: ${refused} new relay connection(s) found no room since the last report; ` +
        "idle strangers were closed for them, or they were closed at accept where there were none. Raise LimitNOFILE (ulimit -n) for more.",
    ),
  );
  return {
    free: () => limit - DESCRIPTOR_RESERVE - base - inUse(),
    admit() {
      if (base + inUse() < limit - DESCRIPTOR_RESERVE) return true;
      report();
      return false;
    },
    admitApi: () => base + inUse() < limit - API_RESERVE,
  };
}

/** Counts refusals and tells `say` how many at most once a minute, so that a flood makes one line, not one per connection. */
export function createRefusalReport(clock: Clock, say: (refused: number) => void): () => void {
  let refused = 0;
  let lastReport = -Infinity;
  return () => {
    refused++;
    const now = clock.now();
    if (now - lastReport < REPORT_EVERY_MS) return;
    say(refused);
    lastReport = now;
    refused = 0;
  };
}
