// configs.json: loaded once at start (refusing anything it cannot trust), then replaced atomically at every compaction.
import { closeSync, constants, mkdirSync, openSync, readlinkSync, statSync, unlinkSync } from "node:fs";
import { open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { ConnectorError } from "../errors.ts";
import { readRegular, whyUnusable } from "../regular-file.ts";
import { fromRecord, parseStored, StateFile, toRecord, type Entry } from "./schema.ts";
import { quickStateFile } from "./quick-records.ts";

/**
 * Reads configs.json alone, without its journal (see journal.ts). Missing or blank: empty. Anything
 * else it cannot trust: ConnectorError("state").
 */
export function loadSnapshot(path: string): Entry[] {
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
  const entries = parseStored(StateFile, text, "a mapping list", "the file", refuse, quickStateFile).mappings.map(fromRecord);
  checkEntries(entries, refuse);
  return entries;
}

/** Throws `refuse(why)` when two entries share an id or a port, or a mapping has no port2. */
export function checkEntries(entries: Entry[], refuse: (why: string) => Error): void {
  const ids = new Set<string>();
  /** By port, 1 + the index of the mapping holding it (a Map of 18,000 ports is several times slower to fill). */
  const holders = new Int32Array(65536);
  entries.forEach((entry, index) => {
    const id = entry.kind === "mapping" ? entry.mapping.id : entry.direct.id;
    if (ids.has(id)) throw refuse(`holds mapping ${id} twice`);
    ids.add(id);
    if (entry.kind !== "mapping") return;
    for (const port of [entry.mapping.port1, entry.mapping.port2]) {
      if (port === 0) throw refuse(`gives mapping ${id} no port2`);
      const other = entries[holders[port]! - 1];
      if (other?.kind === "mapping") throw refuse(`gives port ${port} to both ${other.mapping.id} and ${id}`);
      holders[port] = index + 1;
    }
  });
}

/** Serialises one entry, as configs.json and the journal hold it. */
export function encodeEntry(entry: Entry): string {
  return JSON.stringify(toRecord(entry));
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
 * Checks at start, before the lock next to the state file is taken, that the state file can be written
 * where it lives: creates its directory (0700)
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
  // A name of this process's own: the check runs before the state file's lock is taken, while another
  // daemon may be writing its temporary file.
  const probe = join(dir, `.${basename(target)}.probe-${process.pid}`);
  try {
    closeSync(openSync(probe, TEMP_FLAGS, 0o600));
    unlinkSync(probe);
  } catch (error) {
    throw refuse(`does not take new files (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
}

/**
 * Writes `lines` (encoded entries) over the state file atomically: a temporary file next to the file
 * (next to a link's target), fsync, rename over it, fsync its directory. A crash at any point leaves
 * the old or the new file whole. Fails with ConnectorError("storage").
 */
export async function writeState(path: string, lines: string[]): Promise<void> {
  let handle;
  let temp: string | undefined;
  try {
    const target = stateTarget(path);
    temp = tempOf(target);
    const body = `{"mappings":[${lines.join(",")}]}\n`;
    handle = await open(temp, TEMP_FLAGS, 0o600);
    await handle.writeFile(body);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, target);
    await syncDir(dirname(target));
  } catch (error) {
    await handle?.close().catch(() => undefined);
    if (temp !== undefined) await unlink(temp).catch(() => undefined);
    throw storageError(path, error);
  }
}

/** fsync(2) of a directory: the names created, renamed or removed in it are on the disk. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export function storageError(path: string, error: unknown): ConnectorError {
  if (error instanceof ConnectorError) return error;
  const code = (error as NodeJS.ErrnoException).code ?? String(error);
  return new ConnectorError("storage", `The state file ${path} could not be written (${code}); nothing was changed.`, { cause: error });
}
