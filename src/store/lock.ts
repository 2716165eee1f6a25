// One daemon per state file: an exclusive flock(2) on "<state file>.lock", which the kernel drops when the holder dies.
import { dlopen, FFIType, read } from "bun:ffi";
import { closeSync, constants, openSync, statSync } from "node:fs";
import { ConnectorError } from "../errors.ts";
import { stateTarget } from "./state-file.ts";
import { readOptional } from "../read-optional.ts";

const LOCK_SH = 1;
const LOCK_EX = 2;
const LOCK_NB = 4;
const EWOULDBLOCK = 11;

export interface StateLock {
  readonly path: string;
  /** Drops the lock; safe to call twice. The process ending drops it too, even by SIGKILL. */
  release(): void;
}

export function lockPathOf(stateFile: string): string {
  // Next to the file the state is written to, so that every link to one state file shares one lock.
  let target = stateFile;
  try {
    target = stateTarget(stateFile);
  } catch {
    // A link that cannot be followed: the state file check says why; the lock sits next to the name given.
  }
  return `${target}.lock`;
}

/**
 * Takes the state file's lock or fails with ConnectorError("already_running") naming the holder.
 * The lock file only carries the lock: it is never written or removed, so an empty file left
 * behind by a dead daemon means nothing, and a read-only descriptor is enough to hold it.
 */
export function acquireStateLock(stateFile: string): StateLock {
  const path = lockPathOf(stateFile);
  const fd = openLockFile(path);
  const errno = flock(fd, LOCK_EX | LOCK_NB);
  if (errno !== 0) {
    closeSync(fd);
    if (errno !== EWOULDBLOCK) {
      throw new ConnectorError("state", `The lock file ${path} cannot be locked (errno ${errno}).`);
    }
    throw new ConnectorError("already_running", heldMessage(path, lockHolder(stateFile)?.pid));
  }
  let open = true;
  return {
    path,
    release() {
      if (!open) return;
      open = false;
      closeSync(fd); // closing the only descriptor of the open file drops the flock
    },
  };
}

export interface LockHolder {
  /** The holder's pid as this process sees it; undefined when it lives in another pid namespace. */
  pid: number | undefined;
}

/**
 * Who holds the state file's lock, read from /proc/locks without touching the lock (a probe that
 * took even a shared lock could make a daemon starting at that moment fail). Undefined: nobody.
 */
export function lockHolder(stateFile: string, procLocks = () => readOptional("/proc/locks")): LockHolder | undefined {
  let ino: number;
  let dev: number;
  try {
    ({ ino, dev } = statSync(lockPathOf(stateFile)));
  } catch {
    return undefined; // no lock file: no daemon ever held it
  }
  const locks = procLocks();
  if (locks === undefined) return probeHolder(stateFile);
  const id = `${hex(major(dev))}:${hex(minor(dev))}:${ino}`;
  for (const line of locks.split("\n")) {
    const fields = line.trim().split(/\s+/);
    // "1: FLOCK  ADVISORY  WRITE 4242 fe:00:9977892 0 EOF"; blocked waiters are marked "->" and skipped.
    if (fields[1] !== "FLOCK" || fields[3] !== "WRITE" || fields[5] === undefined) continue;
    const [maj = "", min = "", node = ""] = fields[5].split(":");
    if (`${hex(Number.parseInt(maj, 16))}:${hex(Number.parseInt(min, 16))}:${node}` !== id) continue;
    const pid = Number(fields[4]);
    return { pid: pid > 0 ? pid : undefined };
  }
  return undefined;
}

/** Where /proc/locks cannot be read: a shared lock that cannot be had means someone holds it exclusively. */
function probeHolder(stateFile: string): LockHolder | undefined {
  let fd: number;
  try {
    fd = openSync(lockPathOf(stateFile), constants.O_RDONLY);
  } catch {
    return undefined;
  }
  try {
    if (flock(fd, LOCK_SH | LOCK_NB) === 0) return undefined;
    return { pid: undefined };
  } finally {
    closeSync(fd);
  }
}

function heldMessage(path: string, pid: number | undefined): string {
  return `Connector is already running: ${pid === undefined ? "another process" : `process ${pid}`} holds ${path}.`;
}

function openLockFile(path: string): number {
  try {
    return openSync(path, constants.O_RDONLY);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw unusable(path, error);
  }
  try {
    return openSync(path, constants.O_RDONLY | constants.O_CREAT, 0o644);
  } catch (error) {
    throw unusable(path, error);
  }
}

function unusable(path: string, error: unknown): ConnectorError {
  const code = (error as NodeJS.ErrnoException).code ?? String(error);
  return new ConnectorError("state", `The lock file ${path} cannot be opened (${code}); the Connector needs to create it next to its state file.`);
}

// Linux's dev_t encoding, as glibc's major()/minor() decode it.
const major = (dev: number) => Number(((BigInt(dev) >> 8n) & 0xfffn) | ((BigInt(dev) >> 32n) & ~0xfffn));
const minor = (dev: number) => Number((BigInt(dev) & 0xffn) | ((BigInt(dev) >> 12n) & ~0xffn));
const hex = (n: number) => n.toString(16);

// Bun has no flock of its own; libc's is one call away through bun:ffi (glibc, which the executable needs anyway).
/** flock(2): 0 when done, else the errno. */
function flock(fd: number, op: number): number {
  const libc = dlopen("libc.so.6", {
    flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    __errno_location: { args: [], returns: FFIType.ptr },
  });
  try {
    return libc.symbols.flock(fd, op) === 0 ? 0 : read.i32(libc.symbols.__errno_location()!, 0);
  } finally {
    libc.close();
  }
}
