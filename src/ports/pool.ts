// The port pool: which ports mappings may use, which are taken, handed out in O(1) amortised time.
import type { PortRange } from "../config/ranges.ts";

const NOT_IN_POOL = 0;
const FREE = 1;
const ASSIGNED = 2;

export interface PortPool {
  /** Ports in the pool (ranges minus excludes). */
  readonly size: number;
  /** Pool ports not assigned to a mapping. */
  readonly available: number;
  /**
   * Marks the next free port after the last one handed out as assigned and returns it, skipping
   * `skip`; undefined when no free port is left outside `skip`.
   */
  take(skip?: ReadonlySet<number>): number | undefined;
  /** Marks a port as assigned (a mapping restored from the state file). Ports outside the pool are ignored. */
  claim(port: number): void;
  /** Gives a port back. Ports outside the pool are ignored. */
  release(port: number): void;
  has(port: number): boolean;
  isAssigned(port: number): boolean;
  /** The pool as sorted inclusive ranges (for the start-up check of the ephemeral range). */
  ranges(): PortRange[];
}

/**
 * A byte per port number: the whole port space is 64 KiB, so every operation is a lookup and
 * `take` walks forward from a cursor, which keeps recently released ports cold (an agent that
 * still dials an old port does not land on a new mapping at once).
 */
export function createPortPool(options: { ranges: PortRange[]; exclude?: PortRange[] }): PortPool {
  const slots = new Uint8Array(65536);
  for (const { from, to } of options.ranges) slots.fill(FREE, from, to + 1);
  for (const { from, to } of options.exclude ?? []) slots.fill(NOT_IN_POOL, from, to + 1);
  let size = 0;
  for (let port = 1; port < 65536; port++) if (slots[port] === FREE) size++;
  let available = size;
  let cursor = 0;

  return {
    get size() {
      return size;
    },
    get available() {
      return available;
    },
    take(skip) {
      if (available === 0) return undefined;
      for (let step = 1; step <= 65535; step++) {
        const port = ((cursor + step - 1) % 65535) + 1;
        if (slots[port] === FREE && !skip?.has(port)) {
          slots[port] = ASSIGNED;
          available--;
          cursor = port;
          return port;
        }
      }
      return undefined;
    },
    claim(port) {
      if (slots[port] === FREE) {
        slots[port] = ASSIGNED;
        available--;
      }
    },
    release(port) {
      if (slots[port] === ASSIGNED) {
        slots[port] = FREE;
        available++;
      }
    },
    has: (port) => port > 0 && port < 65536 && slots[port] !== NOT_IN_POOL,
    isAssigned: (port) => slots[port] === ASSIGNED,
    ranges() {
      const out: PortRange[] = [];
      for (let port = 1; port < 65536; port++) {
        if (slots[port] === NOT_IN_POOL) continue;
        const last = out.at(-1);
        if (last && last.to === port - 1) last.to = port;
        else out.push({ from: port, to: port });
      }
      return out;
    },
  };
}
