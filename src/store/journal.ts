// configs.json.journal: one line per change since the last compaction, so that a change appends a record instead of rewriting the file.
import { constants, statSync } from "node:fs";
import { open, rename, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import * as v from "valibot";
import { ConnectorError } from "../errors.ts";
import { readRegular, whyUnusable } from "../regular-file.ts";
import { fromRecord, parseStored, StateRecord, type Entry } from "./schema.ts";
import { quickJournalLine } from "./quick-records.ts";
import { checkEntries, encodeEntry, loadSnapshot, stateTarget, storageError, syncDir, writeState } from "./state-file.ts";

/** Below this the journal is never compacted while running; above it, once it outgrows configs.json. */
export const MIN_COMPACT_BYTES = 1 << 20;

/** Next to the file the state is written to, like the lock. */
export function journalPathOf(stateFile: string): string {
  try {
    return `${stateTarget(stateFile)}.journal`;
  } catch {
    return `${stateFile}.journal`; // a link that cannot be followed: the state file check says why
  }
}

/** The journal a compaction is writing into configs.json; replayed before the journal. */
const rotatedOf = (journal: string) => `${journal}.old`;

export const JournalLine = v.union(
  [v.strictObject({ put: StateRecord }), v.strictObject({ remove: v.pipe(v.string(), v.nonEmpty()) })],
  'a record {"put":{...}} or {"remove":"<id>"}',
);

export const entryId = (entry: Entry) => (entry.kind === "mapping" ? entry.mapping.id : entry.direct.id);

/**
 * Applies the records of `text` to `state` in order. A put sets the entry, a remove deletes it: a
 * record already reflected in `state` changes nothing, so a journal replayed twice gives the same state.
 * A last line without its newline is a record cut off by a crash, never acknowledged: it is skipped.
 * Any other line that is not a record is a ConnectorError("state").
 */
export function replayJournal(path: string, text: string, state: Map<string, Entry>): void {
  const lines = text.split("\n");
  lines.pop();
  lines.forEach((line, index) => {
    const refuse = (why: string) =>
      new ConnectorError("state", `Journal ${path} line ${index + 1} ${why}; the files were left as they are: repair or move the journal aside, then start again.`);
    const record = parseStored(JournalLine, line, "a journal record", "the line", refuse, quickJournalLine);
    if ("put" in record) {
      const entry = fromRecord(record.put);
      state.set(entryId(entry), entry);
    } else {
      state.delete(record.remove);
    }
  });
}

function readJournal(path: string): string | undefined {
  try {
    return readRegular(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new ConnectorError("state", `Journal ${path} ${whyUnusable(error)}; fix or move it aside, then start again.`);
  }
}

function readAll(stateFile: string): { entries: Entry[]; journals: number } {
  const state = new Map(loadSnapshot(stateFile).map((entry) => [entryId(entry), entry] as const));
  const journal = journalPathOf(stateFile);
  let journals = 0;
  for (const path of [rotatedOf(journal), journal]) {
    const text = readJournal(path);
    if (text === undefined) continue;
    journals++;
    replayJournal(path, text, state);
  }
  const entries = [...state.values()];
  checkEntries(entries, (why) =>
    new ConnectorError("state", `State file ${stateFile} with its journal ${why}; the files were left as they are: repair or move them aside, then start again.`),
  );
  return { entries, journals };
}

/** The state as last acknowledged: configs.json with its journals replayed. Reads only. */
export function loadState(stateFile: string): Entry[] {
  return readAll(stateFile).entries;
}

/**
 * At start: the state as last acknowledged, compacted: configs.json written whole, then the journals
 * removed (a crash in between leaves journals whose replay changes nothing).
 */
export async function restoreState(stateFile: string): Promise<Entry[]> {
  const { entries, journals } = readAll(stateFile);
  if (journals > 0) {
    await writeState(stateFile, entries.map(encodeEntry));
    const journal = journalPathOf(stateFile);
    try {
      for (const path of [rotatedOf(journal), journal]) await removeIfThere(path);
    } catch (error) {
      throw storageError(stateFile, error);
    }
  }
  return entries;
}

async function removeIfThere(path: string): Promise<void> {
  await unlink(path).catch((error: NodeJS.ErrnoException) => (error.code === "ENOENT" ? undefined : Promise.reject(error)));
}

export interface Journal {
  /** Resolves once a record setting the entry's id to `entry` is on the disk; concurrent changes share one append and sync. */
  put(entry: Entry): Promise<void>;
  /** Resolves once a record removing `id` is on the disk. */
  remove(id: string): Promise<void>;
  /** Graceful stop: waits for pending changes, writes configs.json whole and removes the journal. Refuses changes after. */
  close(): Promise<void>;
  /**
   * Resolves once no append and no compaction is under way: the three files are then at rest. (Each is consistent on
   * the disk at every moment, but one read of all three while a compaction renames the journal may see two moments.)
   */
  idle(): Promise<void>;
}

export interface JournalOptions {
  /** Told of every append and how long it took. */
  onWrite?: (ok: boolean, seconds: number) => void;
  /** Compacts once the journal holds this many bytes; by default as many as configs.json, at least MIN_COMPACT_BYTES. */
  compactAt?: number;
  /** Told of compactions that failed (the journal keeps every change; the next one tries again). */
  onError?: (message: string) => void;
}

interface Pending {
  line: string;
  apply: () => void;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Never through a link planted in its place, never blocked by a FIFO there. */
const APPEND_FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * Appends changes to the journal of `stateFile`, whose durable state is `initial`. Entries are encoded when they are
 * written (one record, or configs.json whole), so that none is held twice, as an object and as its text.
 * Past the size limit, between two appends, the journal is renamed aside (".old") and a fresh one
 * takes the next changes while configs.json is written from the state the renamed journal ends at;
 * the renamed journal is removed once configs.json is on the disk. At start both are replayed in order.
 */
export function createJournal(stateFile: string, initial: Iterable<Entry>, options: JournalOptions = {}): Journal {
  const durable = new Map<string, Entry>();
  for (const entry of initial) durable.set(entryId(entry), entry);
  const path = journalPathOf(stateFile);
  const old = rotatedOf(path);
  let size = statSync(path, { throwIfNoEntry: false })?.size ?? 0;
  let created = size > 0; // the journal's name is on the disk
  let oldThere = statSync(old, { throwIfNoEntry: false }) !== undefined;
  let snapshotBytes = statSync(stateFile, { throwIfNoEntry: false })?.size ?? 0;
  let pending: Pending[] = [];
  let running: Promise<void> | undefined;
  let compacting: Promise<void> | undefined;
  let closed = false;
  const limit = () => options.compactAt ?? Math.max(MIN_COMPACT_BYTES, snapshotBytes);

  async function append(text: string): Promise<void> {
    const handle = await open(path, APPEND_FLAGS, 0o600);
    try {
      if (!(await handle.stat()).isFile()) throw Object.assign(new Error("not a regular file"), { code: "EFTYPE" });
      try {
        await handle.writeFile(text);
        await handle.datasync();
        if (!created) await syncDir(dirname(path));
      } catch (error) {
        // A record cut short would sit before the next ones, and one not acknowledged must not come back:
        // the journal goes back to its last acknowledged record.
        await handle.truncate(size).catch(() => undefined);
        throw error;
      }
      created = true;
      size += Buffer.byteLength(text);
    } finally {
      await handle.close();
    }
  }

  /** The durable state as configs.json's records, encoded now. */
  const encodedState = () => Array.from(durable.values(), encodeEntry);

  /** Writes configs.json from `lines`, then removes the renamed journal: each record in it is in configs.json. */
  async function compact(lines: string[]): Promise<void> {
    try {
      await writeState(stateFile, lines);
      snapshotBytes = lines.reduce((sum, line) => sum + line.length + 1, 16);
      await removeIfThere(old);
      oldThere = false;
    } catch (error) {
      options.onError?.(`${storageError(stateFile, error).message} The journal keeps every change; compaction is tried again.`);
    }
  }

  async function drain(): Promise<void> {
    while (pending.length > 0) {
      const batch = pending;
      pending = [];
      const began = performance.now();
      try {
        await append(batch.map((p) => p.line).join(""));
        for (const p of batch) p.apply();
        options.onWrite?.(true, (performance.now() - began) / 1000);
        for (const p of batch) p.resolve();
      } catch (error) {
        options.onWrite?.(false, (performance.now() - began) / 1000);
        const failed = storageError(stateFile, error);
        for (const p of batch) p.reject(failed);
      }
      if (size >= limit() && compacting === undefined && !closed) {
        try {
          // A previous compaction that failed left ".old": the state below covers it too, so it stays.
          if (!oldThere) {
            await rename(path, old);
            oldThere = true;
            size = 0;
            created = false;
          }
          compacting = compact(encodedState()).finally(() => (compacting = undefined));
        } catch (error) {
          options.onError?.(`${storageError(stateFile, error).message} The journal keeps every change.`);
        }
      }
    }
    running = undefined;
  }

  function submit(line: string, apply: () => void): Promise<void> {
    if (closed) return Promise.reject(new ConnectorError("storage", "The Connector is stopping; nothing was changed."));
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    pending.push({ line, apply, resolve, reject });
    running ??= drain();
    return promise;
  }

  return {
    put: (entry) => submit(`{"put":${encodeEntry(entry)}}\n`, () => durable.set(entryId(entry), entry)),
    remove: (id) => submit(`{"remove":${JSON.stringify(id)}}\n`, () => durable.delete(id)),
    async idle() {
      while (running !== undefined || compacting !== undefined) {
        await running;
        await compacting;
      }
    },
    async close() {
      closed = true;
      await running;
      await compacting;
      if (size === 0 && !oldThere && !created) return;
      try {
        await writeState(stateFile, encodedState());
        await removeIfThere(path);
        await removeIfThere(old);
      } catch (error) {
        options.onError?.(`${storageError(stateFile, error).message} The journal is replayed at the next start.`);
      }
    },
  };
}
