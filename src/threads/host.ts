// The relay on N threads: implements the Relay contract for the control plane by spreading the mappings over Bun
// Workers that each run the relay engine, reading their numbers from shared memory, and restarting a thread that dies.
import type { Clock } from "../clock.ts";
import { ConnectorError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { MappingState, OpenOptions, Relay, RelayMapping, TlsMaterial } from "../relay/types.ts";
import { carry, clearSlot, copySlot, countedSince, readState } from "./counters.ts";
import { createDescriptorShare, publishConnections, publishControl, relayedConnections } from "./descriptors.ts";
import type { ThreadRelayOptions } from "./messages.ts";
import { startThread, ThreadGone, type RelayThread } from "./thread.ts";
import { createSlots, type Slots } from "./slots.ts";

/**
 * How often relay threads publish their numbers (and the control thread its descriptor count). A publication of
 * 4,500 mappings takes a relay thread about 2 ms, so this is under 1 % of it; status and /metrics are that much behind.
 */
export const PUBLISH_EVERY_MS = 250;

/**
 * A thread that dies again within this long of being started waits before the next start, twice as long each time
 * up to RESTART_MAX_DELAY_MS, so that a thread that cannot live does not spin a core restarting.
 */
const RESTART_STEADY_MS = 10_000;
const RESTART_FIRST_DELAY_MS = 1000;
const RESTART_MAX_DELAY_MS = 30_000;

export interface ThreadedRelayOptions {
  threads: number;
  log: Logger;
  /** For the control thread's own timers; relay threads run on the system clock. */
  clock: Clock;
  tls?: TlsMaterial;
  relay?: ThreadRelayOptions;
  /** The descriptor reserve across threads: the soft limit (undefined: none), descriptors open at start, and what the control thread holds now. */
  descriptors?: { limit: number | undefined; base: number; controlInUse: () => number };
  publishEveryMs?: number;
  /**
   * Told, once a relay thread has closed a mapping, what the mapping counted after the state close() could still read
   * (its last publication): the cumulative counters' differences, so that totals kept past a mapping stay exact.
   */
  onClosed?: (late: MappingState) => void;
}

export interface ThreadedRelay extends Relay {
  /** Relay threads started again after a crash. */
  readonly restarts: number;
  /** The threads by index, each started when it is first given a mapping (tests terminate one's worker to see it recovered). */
  readonly threads: readonly (RelayThread | undefined)[];
  /** The thread serving a mapping; undefined for an unknown id. */
  threadOf(id: string): number | undefined;
}

interface Entry {
  mapping: RelayMapping;
  thread: number;
  slot: number;
  retry: boolean;
  /** The thread answered its open. */
  confirmed: boolean;
  /** What threads that crashed under it had counted. */
  carried: Float64Array | undefined;
}

export function createThreadedRelay(options: ThreadedRelayOptions): ThreadedRelay {
  const { log, clock } = options;
  const count = Math.max(1, options.threads);
  const descriptors = createDescriptorShare(count);
  const publishEveryMs = options.publishEveryMs ?? PUBLISH_EVERY_MS;
  let tls = options.tls;
  let level = log.level;
  let restarts = 0;
  let stopping: Promise<void> | undefined;
  const entries = new Map<string, Entry>();
  const mappingsOn = new Array<number>(count).fill(0);
  const slots: Slots[] = Array.from({ length: count }, () => createSlots());

  const init = () => ({
    relay: options.relay ?? {},
    tls,
    logLevel: level,
    descriptorLimit: options.descriptors?.limit,
    descriptorBase: options.descriptors?.base ?? 0,
    descriptors,
    publishEveryMs,
  });
  const bornAt = new Array<number>(count).fill(0);
  /** Deaths in a row, each within RESTART_STEADY_MS of its start. */
  const quickDeaths = new Array<number>(count).fill(0);
  /** Threads waiting out a restart delay: new mappings go elsewhere meanwhile. */
  const waiting = new Map<number, () => void>();
  const spawn = (index: number, segments: number) => {
    bornAt[index] = clock.now();
    return startThread(index, segments, { init: init(), log, onCrash: recover });
  };
  // A thread starts with its first mapping, so that an empty daemon answers its API without waiting for threads to boot.
  const threads: (RelayThread | undefined)[] = new Array(count).fill(undefined);
  const started = (): RelayThread[] => threads.filter((thread) => thread !== undefined);

  const onThread = (index: number) => Array.from(entries.values()).filter((entry) => entry.thread === index);

  function recover(dead: RelayThread, reason: string): void {
    if (stopping !== undefined) return;
    const index = dead.index;
    const carried = onThread(index);
    quickDeaths[index] = clock.now() - bornAt[index]! < RESTART_STEADY_MS ? quickDeaths[index]! + 1 : 1;
    const delay = quickDeaths[index]! <= 1 ? 0 : Math.min(RESTART_MAX_DELAY_MS, RESTART_FIRST_DELAY_MS * 2 ** (quickDeaths[index]! - 2));
    const when = delay === 0 ? "Starting it again" : `It stopped ${quickDeaths[index]} times in a row within ${RESTART_STEADY_MS / 1000} s of starting; starting it again in ${delay / 1000} s`;
    log.error(`Relay thread ${index} stopped unexpectedly (${reason}); it carried ${carried.length} mappings. ${when} and reopening them.`);
    restarts++;
    for (const entry of carried) {
      entry.carried = carry(entry.carried, copySlot(dead.segments, entry.slot));
      clearSlot(dead.segments, entry.slot); // until it is started again its mappings show what was carried, and no listener
    }
    // A new mapping whose open was under way fails (its caller gets ThreadGone); the others come back as at restore.
    for (const entry of carried) if (!entry.confirmed && !entry.retry) forget(entry);
    publishConnections(descriptors, index, 0); // its connections went with it
    if (delay === 0) restart(index, dead.segments.length);
    else waiting.set(index, clock.after(delay, () => restart(index, dead.segments.length)));
  }

  /** Starts thread `index` again with the mappings it still carries (those removed meanwhile stay closed). */
  function restart(index: number, segments: number): void {
    waiting.delete(index);
    if (stopping !== undefined) return;
    const reopened = onThread(index);
    slots[index] = createSlots(reopened.map((entry) => entry.slot));
    const thread = spawn(index, segments);
    threads[index] = thread;
    for (const entry of reopened) {
      entry.confirmed = false;
      entry.retry = true; // reopened as at restore: a thread that dies before it answers leaves it to the next restart
      void thread.request({ type: "open", mapping: entry.mapping, options: { retry: true }, slot: entry.slot }).then(
        () => (entry.confirmed = true),
        (error: unknown) => {
          if (error instanceof ThreadGone) return; // crashed again: the next recovery reopens it
          log.error(`Mapping ${entry.mapping.id} could not be reopened on relay thread ${index}: ${(error as Error).message}`);
        },
      );
    }
  }

  function forget(entry: Entry): void {
    if (entries.get(entry.mapping.id) === entry) entries.delete(entry.mapping.id);
    mappingsOn[entry.thread]!--;
  }

  /** The thread with the fewest mappings, among those not waiting to be started again (unless all are). */
  const leastLoaded = () => {
    let best = -1;
    for (let index = 0; index < count; index++) {
      if (waiting.has(index)) continue;
      if (best < 0 || mappingsOn[index]! < mappingsOn[best]!) best = index;
    }
    return best < 0 ? 0 : best;
  };

  // The control thread's share of the descriptor count, and the log level, reach the threads on a timer.
  const stopTick = clock.every(publishEveryMs, () => {
    if (options.descriptors !== undefined) publishControl(descriptors, options.descriptors.controlInUse());
    if (log.level !== level) {
      level = log.level;
      for (const thread of started()) thread.post({ type: "level", level });
    }
  });

  return {
    async open(mapping: RelayMapping, { retry }: OpenOptions) {
      if (stopping !== undefined) throw new ConnectorError("internal", "The relay is shutting down.");
      if (entries.has(mapping.id)) throw new ConnectorError("conflict", `Mapping ${mapping.id} is already open.`);
      const index = leastLoaded();
      const slot = slots[index]!.take();
      const entry: Entry = { mapping, thread: index, slot, retry, confirmed: false, carried: undefined };
      entries.set(mapping.id, entry);
      mappingsOn[index]!++;
      const thread = (threads[index] ??= spawn(index, 1));
      thread.reserve(slot + 1);
      try {
        await thread.request({ type: "open", mapping, options: { retry }, slot });
        entry.confirmed = true;
      } catch (error) {
        if (error instanceof ThreadGone && retry) return; // reopened by the recovery, with retry as asked
        if (entries.get(mapping.id) === entry) {
          forget(entry);
          slots[entry.thread]!.give(slot);
        }
        throw error;
      }
    },

    close(id) {
      const entry = entries.get(id);
      if (entry === undefined) return;
      forget(entry);
      const thread = threads[entry.thread]!;
      const owner = slots[entry.thread]!;
      const seen = readState(thread.segments, entry.slot, entry.mapping, entry.carried);
      // The slot is given to another mapping only once the thread has stopped writing it, and has written its last numbers there.
      return thread.request({ type: "close", id, slot: entry.slot }).then(
        () => {
          const late = countedSince(seen, readState(thread.segments, entry.slot, entry.mapping, entry.carried));
          clearSlot(thread.segments, entry.slot);
          owner.give(entry.slot);
          options.onClosed?.(late);
        },
        () => undefined, // the thread died: what it counted since its last publication is lost with it
      );
    },

    state(id) {
      const entry = entries.get(id);
      return entry === undefined ? undefined : readState(threads[entry.thread]!.segments, entry.slot, entry.mapping, entry.carried);
    },

    states() {
      const out: MappingState[] = [];
      for (const entry of entries.values()) out.push(readState(threads[entry.thread]!.segments, entry.slot, entry.mapping, entry.carried));
      return out;
    },

    get connections() {
      return relayedConnections(descriptors);
    },

    setTls(next) {
      tls = next;
      for (const thread of started()) thread.post({ type: "tls", tls: next });
    },

    shutdown(graceMs) {
      return (stopping ??= (async () => {
        stopTick();
        for (const cancel of waiting.values()) cancel();
        waiting.clear();
        await Promise.all(started().map((thread) => thread.request({ type: "shutdown", graceMs }).catch(() => undefined)));
        for (const thread of started()) thread.stop();
      })());
    },

    get restarts() {
      return restarts;
    },
    threads,
    threadOf: (id) => entries.get(id)?.thread,
  };
}
