// One relay thread seen from the control thread: the Worker, its requests awaiting an answer, its shared segments,
// and the notice that it stopped without being asked to.
import { ConnectorError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { newSegment, SEGMENT_SLOTS } from "./counters.ts";
import type { FromThread, ThreadInit, ToThread } from "./messages.ts";
import { writeThreadLine } from "./thread-log.ts";

// In the compiled executable every entry point lives under /$bunfs/root/ by its path below src/ (see scripts/build.ts),
// and import.meta.url names the executable's main module there; from source, it names this file.
const WORKER_URL = import.meta.url.startsWith("file:///$bunfs/") ? new URL("./threads/worker.ts", import.meta.url) : new URL("./worker.ts", import.meta.url);

/** Messages in one batch at most: a restore of thousands of mappings crosses in parts, each one freed once read. */
const BATCH_MOST = 256;

/** A request that was under way when its thread stopped; the host decides what becomes of it. */
export class ThreadGone extends ConnectorError {
  constructor(index: number) {
    super("internal", `Relay thread ${index} stopped before it answered.`);
  }
}

type Request = ToThread extends infer M ? (M extends { req: number } ? Omit<M, "req"> : never) : never;

export interface RelayThread {
  readonly index: number;
  /** The Worker itself (tests terminate it to see a crash recovered). */
  readonly worker: Worker;
  /** The shared segments this thread publishes into; the control thread reads them. */
  readonly segments: Float64Array[];
  /** Sends a request and resolves with its answer; rejects with the thread's ConnectorError, or ThreadGone. */
  request(message: Request): Promise<void>;
  post(message: ToThread): void;
  /** Adds a segment (shared with the thread) until `slots` fit. */
  reserve(slots: number): void;
  /** Stops the thread on purpose: no crash notice. */
  stop(): void;
}

export interface ThreadOptions {
  init: Omit<ThreadInit, "type" | "index" | "segments">;
  log: Logger;
  /** Called once when the thread stops without stop() having been called, with what it said before. */
  onCrash(thread: RelayThread, reason: string): void;
}

export function startThread(index: number, segmentCount: number, options: ThreadOptions): RelayThread {
  const worker = new Worker(WORKER_URL.href);
  const segments = Array.from({ length: segmentCount }, newSegment);
  const pending = new Map<number, PromiseWithResolvers<void>>();
  let nextReq = 1;
  let asked = false;
  let gone = false;
  let lastError = "";
  let outbox: ToThread[] = [];
  const flush = () => {
    const messages = outbox;
    outbox = [];
    if (messages.length > 0 && !gone) worker.postMessage(messages.length === 1 ? messages[0] : { type: "batch", messages });
  };
  /** Posts in order, gathering what is posted in one turn into one message. */
  const send = (message: ToThread) => {
    const queued = outbox.push(message);
    if (queued === 1) queueMicrotask(flush);
    else if (queued === BATCH_MOST) flush();
  };

  const thread: RelayThread = {
    index,
    worker,
    segments,
    request(message) {
      if (gone) return Promise.reject(new ThreadGone(index));
      const req = nextReq++;
      const waiter = Promise.withResolvers<void>();
      pending.set(req, waiter);
      send({ ...message, req } as ToThread);
      return waiter.promise;
    },
    post(message) {
      if (!gone) send(message);
    },
    reserve(slots) {
      while (segments.length * SEGMENT_SLOTS < slots) {
        const segment = newSegment();
        segments.push(segment);
        thread.post({ type: "segment", segment });
      }
    },
    stop() {
      asked = true;
      worker.terminate();
    },
  };

  worker.addEventListener("message", (event: MessageEvent<FromThread>) => {
    const message = event.data;
    if (message.type === "log") return writeThreadLine(options.log, message);
    for (const reply of message.type === "replies" ? message.replies : [message]) {
      const waiter = pending.get(reply.req);
      pending.delete(reply.req);
      if (reply.error === undefined) waiter?.resolve();
      else waiter?.reject(new ConnectorError(reply.error.code, reply.error.message, { port: reply.error.port }));
    }
  });
  worker.addEventListener("error", (event) => {
    lastError = event.message;
    event.preventDefault();
  });
  worker.addEventListener("close", (event) => {
    gone = true;
    for (const waiter of pending.values()) waiter.reject(new ThreadGone(index));
    pending.clear();
    if (!asked) options.onCrash(thread, lastError || `exit code ${(event as CloseEvent).code}`);
  });
  send({ type: "init", index, segments, ...options.init } satisfies ThreadInit);
  return thread;
}
