// configs.json: loaded once at start (refusing anything it cannot trust), then replaced atomically on every change.
import { closeSync, constants, mkdirSync, openSync, readlinkSync, statSync, unlinkSync } from "node:fs";
import { open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import * as v from "valibot";
import { describeIssue } from "../config/issues.ts";
import { ConnectorError } from "../errors.ts";
import { readRegular, whyUnusable } from "../regular-file.ts";
import { fromRecord, StateFile, toRecord, type Entry } from "./schema.ts";

/** Reads the state file. Missing or blank: empty. Anything else it cannot trust: ConnectorError("state"). */
export function loadState(path: string): Entry[] {
  let text: string;
  try {
    text = readRegular(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return [];
    const fix = code === "EACCES" || code === "EPERM" ? "fix its permissions" : "put the Connector's state file there or set \"stateFile\" in the settings";
    throw new ConnectorError("state", `State file ${path} ${whyUnusable(error)}; ${fix}, then start again.`);
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
  if (!parsed.success) throw refuse(`is not a mapping list: ${describeIssue(parsed.issues[0], "the file")}`);
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

/** Flags of the temporary file: never through a link planted in its place, never blocked by a FIFO there. */
const TEMP_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * The file a write replaces: `path` with its links followed (a link to a file that does not exist
 * yet names the file to create), so that renaming over it updates the link's target, not the link.
 */
export function stateTarget(path: string): string {
  let target = resolve(path);
  for (let hops = 0; hops < 40; hops++) {
    let link: string;
    try {
      link = readlinkSync(target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EINVAL" || code === "ENOENT") return target; // not a link, or nothing there yet
      throw error;
    }
    target = resolve(dirname(target), link);
  }
  throw Object.assign(new Error(`${path}: too many levels of symbolic links`), { code: "ELOOP" });
}

const tempOf = (target: string) => join(dirname(target), `.${basename(target)}.tmp`);

/**
 * Checks at start that the state file can be written where it lives: creates its directory (0700)
 * when the parent exists and belongs to this user, and tries a temporary file there. Anything else
 * is a ConnectorError("state") naming the directory, so the daemon never runs unable to save.
 */
export function prepareStateDir(path: string): void {
  let target: string;
  try {
    target = stateTarget(path);
  } catch (error) {
    throw new ConnectorError("state", `State file ${path} cannot be resolved (${(error as NodeJS.ErrnoException).code ?? String(error)}); set "stateFile" in the settings.`);
  }
  const dir = dirname(target);
  const refuse = (why: string) => new ConnectorError("state", `The state directory ${dir} ${why}; the Connector could not save a mapping. Fix it or set "stateFile" in the settings.`);
  const stats = statSync(dir, { throwIfNoEntry: false });
  if (stats === undefined) {
    const parent = statSync(dirname(dir), { throwIfNoEntry: false });
    if (!parent?.isDirectory() || parent.uid !== process.getuid?.()) throw refuse("does not exist");
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (error) {
      throw refuse(`does not exist and cannot be created (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
  } else if (!stats.isDirectory()) {
    throw refuse("is not a directory");
  }
  const temp = tempOf(target);
  try {
    closeSync(openSync(temp, TEMP_FLAGS, 0o600));
    unlinkSync(temp);
  } catch (error) {
    throw refuse(`does not take new files (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
}

/**
 * Writes `snapshot()` over the state file atomically: a temporary file next to the file (next to a
 * link's target), fsync, rename over it, fsync its directory. A crash at any point leaves the old
 * or the new file whole.
 */
export function createStateWriter(
  path: string,
  snapshot: () => string[],
  onWrite: (ok: boolean, seconds: number) => void = () => {},
): StateWriter {
  let running: Promise<void> | undefined;
  let next: Promise<void> | undefined;

  async function writeOnce(): Promise<void> {
    let handle;
    let temp: string | undefined;
    try {
      const target = stateTarget(path);
      const dir = dirname(target);
      temp = tempOf(target);
      const body = `{"mappings":[${snapshot().join(",")}]}\n`;
      handle = await open(temp, TEMP_FLAGS, 0o600);
      await handle.writeFile(body);
      await handle.sync();
      await handle.close();
      handle = undefined;
      await rename(temp, target);
      const dirHandle = await open(dir, "r");
      try {
        await dirHandle.sync();
      } finally {
        await dirHandle.close();
      }
    } catch (error) {
      await handle?.close().catch(() => undefined);
      if (temp !== undefined) await unlink(temp).catch(() => undefined);
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
