// A relay thread: runs the relay engine for its share of the mappings, publishes their numbers into shared memory,
// and answers the control thread's open, close, reload and shutdown.
import { systemClock } from "../clock.ts";
import { createDescriptorGate } from "../descriptors.ts";
import { isConnectorError } from "../errors.ts";
import { createRelay } from "../relay/index.ts";
import type { LocalRelay } from "../relay/types.ts";
import { publish } from "./counters.ts";
import { inUseSeenBy, publishConnections } from "./descriptors.ts";
import type { FromThread, ThreadFailure, ThreadInit, ToThread } from "./messages.ts";
import { createThreadLogger } from "./thread-log.ts";

declare var self: Worker;

/** Slots published in one turn of the thread's event loop (about 0.2 ms). */
const PUBLISH_SLICE = 512;
/** Connections accepted since the last collection that make a burst worth collecting after. */
const ACCEPT_BURST = 1000;

const post = (message: FromThread) => self.postMessage(message);

type Reply = Extract<FromThread, { type: "reply" }>;

/** Answers given in one turn go back as one message. */
function createReplies(): (answer: Reply) => void {
  let replies: Reply[] = [];
  return (answer) => {
    if (replies.push(answer) > 1) return;
    queueMicrotask(() => {
      const batch = replies;
      replies = [];
      post(batch.length === 1 ? batch[0]! : { type: "replies", replies: batch });
    });
  };
}

function failure(error: unknown): ThreadFailure {
  if (isConnectorError(error)) return { code: error.code, message: error.message, port: error.details.port };
  return { code: "internal", message: error instanceof Error ? error.message : String(error) };
}

function serve(init: ThreadInit): (message: ToThread) => void {
  const clock = systemClock();
  const log = createThreadLogger(init.logLevel, post);
  const reply = createReplies();
  let cancelSettle: (() => void) | undefined;
  /**
   * After a burst of opens (a restore) or of accepted connections (agents reconnecting all at once), collects the
   * garbage the burst left once it is over: the thread's heap would otherwise keep that high-water mark as resident
   * memory (about 0.4 KiB per idle TLS connection, measured over 3,500).
   */
  const settle = () => {
    cancelSettle?.();
    cancelSettle = clock.after(500, () => Bun.gc(true));
  };
  /** Relayed connections when the last burst of accepts was settled, and at the last look (every publication). */
  let settledAt = 0;
  let lastSeen = 0;
  /** Settles once a burst is over: ACCEPT_BURST more connections than at the last settle, and none more since the last look. */
  const settleAfterAccepts = () => {
    const connections = relay.connections;
    const growing = connections > lastSeen;
    lastSeen = connections;
    if (connections < settledAt) settledAt = connections;
    if (!growing && connections - settledAt >= ACCEPT_BURST) {
      settledAt = connections;
      settle();
    }
  };
  const segments = init.segments;
  /** Mapping ids by their slot in the shared segments (an array: a Map of 4,500 ids would take 0.65 MB). */
  const ids: (string | undefined)[] = [];
  let engine: LocalRelay | undefined;
  const own = () => engine?.connections ?? 0;
  const gate = createDescriptorGate({
    limit: init.descriptorLimit,
    base: init.descriptorBase,
    clock,
    log,
    inUse: () => {
      publishConnections(init.descriptors, init.index, own());
      return inUseSeenBy(init.descriptors, init.index, own());
    },
  });
  const relay = createRelay({ ...init.relay, log, clock, tls: init.tls, admit: gate.admit, freeDescriptors: gate.free });
  engine = relay;

  // Read in place and walked without entry pairs: a publication allocates nothing, so it leaves no garbage behind.
  const publishSlots = (from: number, to: number) => {
    for (let slot = from; slot < to; slot++) {
      const id = ids[slot];
      const live = id === undefined ? undefined : relay.live(id);
      if (live !== undefined) publish(segments, slot, live);
    }
  };
  const publishAll = () => {
    publishConnections(init.descriptors, init.index, relay.connections);
    publishSlots(0, ids.length);
  };
  /**
   * The timer's publication, PUBLISH_SLICE slots a turn: 4,500 mappings at once would hold the thread for about 2 ms,
   * which every open, close and relayed read arriving meanwhile would wait for.
   */
  let publishing = false;
  const publishInTurns = () => {
    if (publishing) return;
    publishing = true;
    publishConnections(init.descriptors, init.index, relay.connections);
    const step = (from: number) => {
      const to = Math.min(ids.length, from + PUBLISH_SLICE);
      publishSlots(from, to);
      if (to < ids.length) setImmediate(step, to);
      else publishing = false;
    };
    step(0);
  };
  clock.every(init.publishEveryMs, () => {
    settleAfterAccepts();
    publishInTurns();
  });

  const answer = (req: number, work: Promise<void> | void) =>
    void Promise.resolve(work).then(
      () => reply({ type: "reply", req }),
      (error: unknown) => reply({ type: "reply", req, error: failure(error) }),
    );

  const handle = (message: ToThread): void => {
    switch (message.type) {
      case "open":
        return answer(message.req, (async () => {
          await relay.open(message.mapping, message.options);
          ids[message.slot] = message.mapping.id;
          publish(segments, message.slot, relay.live(message.mapping.id)!);
        })());
      case "close": {
        // Its last numbers go into its slot, so that the control thread keeps what it counted since the last publication.
        const final = relay.state(message.id);
        relay.close(message.id);
        if (ids[message.slot] === message.id) ids[message.slot] = undefined;
        if (final !== undefined) publish(segments, message.slot, final);
        publishConnections(init.descriptors, init.index, relay.connections);
        return answer(message.req);
      }
      case "tls":
        return relay.setTls(message.tls);
      case "level":
        return void (log.level = message.level);
      case "segment":
        return void segments.push(message.segment);
      case "shutdown":
        return answer(message.req, relay.shutdown(message.graceMs).then(publishAll));
      case "batch":
        for (const each of message.messages) handle(each);
        if (message.messages.length >= 200) settle(); // part of a restore
        return;
      case "init":
        return;
    }
  };
  return handle;
}

// Installed before anything else runs, so that no message posted during start-up is missed.
let handle: ((message: ToThread) => void) | undefined;
const receive = (message: ToThread): void => {
  if (message.type === "init") handle = serve(message);
  else if (message.type === "batch" && handle === undefined) message.messages.forEach(receive);
  else handle?.(message);
};
self.onmessage = (event: MessageEvent<ToThread>) => receive(event.data);
