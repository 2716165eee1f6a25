// configs.json: loaded once at start (refusing anything it cannot trust), then replaced atomically on every change.
import { readFileSync } from "node:fs";
import { open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import * as v from "valibot";
import { describeIssue } from "../config/issues.ts";
import { ConnectorError } from "../errors.ts";
import { fromRecord, StateFile, toRecord, type Entry } from "./schema.ts";

/** Reads the state file. Missing or blank: empty. Anything else it cannot trust: ConnectorError("state"). */
export function loadState(path: string): Entry[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return [];
    throw new ConnectorError("state", `State file ${path} cannot be read (${code ?? String(error)}); fix its permissions and start again.`);
  }
  if (text.trim() === "") return [];
  const refuse = (why: string) =>
    new ConnectorError("state", `State file ${path} ${why}; it was left as it is: repair or move it aside, then start again.`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw refuse(`is not valid JSON (${(error as Error).message})`);
  }
  const parsed = v.safeParse(StateFile, json);
  if (!parsed.success) throw refuse(`is not a mapping list: ${describeIssue(parsed.issues[0])}`);
  const entries = parsed.output.mappings.map(fromRecord);
  const ids = new Set<string>();
  const ports = new Map<number, string>();
  for (const entry of entries) {
    const id = entry.kind === "mapping" ? entry.mapping.id : entry.direct.id;
    if (ids.has(id)) throw refuse(`holds mapping ${id} twice`);
    ids.add(id);
    if (entry.kind !== "mapping") continue;
    for (const port of [entry.mapping.port1, entry.mapping.port2]) {
      if (port === 0) throw refuse(`gives mapping ${id} no port2`);
      const other = ports.get(port);
      if (other !== undefined) throw refuse(`gives port ${port} to both ${other} and ${id}`);
      ports.set(port, id);
    }
  }
  return entries;
}

/** Serialises one entry; the daemon caches the result per mapping so a write joins strings instead of re-encoding. */
export function encodeEntry(entry: Entry): string {
  return JSON.stringify(toRecord(entry));
}

export interface StateWriter {
  /**
   * Resolves once a write that began after this call has reached the disk: the caller's change is
   * then durable. Calls that arrive while a write runs share the next one (group commit).
   */
  persist(): Promise<void>;
}

/**
 * Writes `snapshot()` to `path` atomically: a temporary file in the same directory, fsync, rename
 * over the old file, fsync the directory. A crash at any point leaves the old or the new file whole.
 */
export function createStateWriter(
  path: string,
  snapshot: () => string[],
  onWrite: (ok: boolean, seconds: number) => void = () => {},
): StateWriter {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.tmp`);
  let running: Promise<void> | undefined;
  let next: Promise<void> | undefined;

  async function writeOnce(): Promise<void> {
    let handle;
    try {
      const body = `{"mappings":[${snapshot().join(",")}]}\n`;
      handle = await open(temp, "w", 0o600);
      await handle.writeFile(body);
      await handle.sync();
      await handle.close();
      handle = undefined;
      await rename(temp, path);
      const dirHandle = await open(dir, "r");
      try {
        await dirHandle.sync();
      } finally {
        await dirHandle.close();
      }
    } catch (error) {
      await handle?.close().catch(() => undefined);
      await unlink(temp).catch(() => undefined);
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new ConnectorError("storage", `The state file ${path} could not be written (${code}); nothing was changed.`, { cause: error });
    }
  }

  function start(): Promise<void> {
    const began = performance.now();
    const run = writeOnce().then(
      () => onWrite(true, (performance.now() - began) / 1000),
      (error) => {
        onWrite(false, (performance.now() - began) / 1000);
        throw error;
      },
    ).finally(() => {
      running = undefined;
    });
    running = run;
    return run;
  }

  return {
    persist() {
      if (running === undefined) return start();
      next ??= running.catch(() => undefined).then(() => {
        next = undefined;
        return start();
      });
      return next;
    },
  };
}
