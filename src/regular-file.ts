// Opening the files an operator names (settings, state, certificate, key, log): regular files only, links followed.
import { closeSync, constants, fstatSync, openSync, readFileSync, statSync, type Stats } from "node:fs";

/** What a path is when it is not a regular file ("a named pipe (FIFO)"); undefined for a regular file. */
function kindOf(stats: Stats): string | undefined {
  if (stats.isFile()) return undefined;
  if (stats.isDirectory()) return "a directory";
  if (stats.isFIFO()) return "a named pipe (FIFO)";
  if (stats.isSocket()) return "a socket";
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return "a device";
  return "not a plain file";
}

/** An fs-style error (code "ENOTREG") for a path that exists but is not a regular file. */
function notRegular(path: string, kind: string): NodeJS.ErrnoException & { kind: string } {
  return Object.assign(new Error(`${path} is ${kind}, not a regular file`), { code: "ENOTREG", kind, path });
}

/**
 * Opens `path` (following links) and checks that it is a regular file. It is checked before the
 * open, so a FIFO is named rather than opened, and again on the descriptor, which is opened with
 * O_NONBLOCK: a FIFO swapped in between cannot block the open or a read.
 */
export function openRegular(path: string, flags: number, mode?: number): number {
  const before = statSync(path, { throwIfNoEntry: false });
  const early = before && kindOf(before);
  if (early) throw notRegular(path, early);
  const fd = openSync(path, flags | constants.O_NONBLOCK, mode);
  try {
    const kind = kindOf(fstatSync(fd));
    if (kind) throw notRegular(path, kind);
    return fd;
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/** The text of a regular file; fs errors (ENOENT, EACCES, ...) and ENOTREG are thrown as they are. */
export function readRegular(path: string): string {
  const fd = openRegular(path, constants.O_RDONLY);
  try {
    return readFileSync(fd, "utf8");
  } finally {
    closeSync(fd);
  }
}

/** Why a file could not be used, as the end of a sentence: "does not exist", "is a directory, not a regular file". */
export function whyUnusable(error: unknown, verb: "read" | "written" = "read"): string {
  const e = error as NodeJS.ErrnoException & { kind?: string };
  switch (e.code) {
    case "ENOENT":
      return "does not exist";
    case "EACCES":
    case "EPERM":
      return `cannot be ${verb} (permission denied)`;
    case "ENOTREG":
      return `is ${e.kind}, not a regular file`;
    case "EISDIR":
      return "is a directory, not a regular file";
    default:
      return `cannot be ${verb} (${e.code ?? String(error)})`;
  }
}
