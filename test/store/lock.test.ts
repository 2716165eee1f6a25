import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { acquireStateLock, lockHolder, lockPathOf } from "../../src/store/lock.ts";
import { thrown } from "../support/thrown.ts";
import { tempDir } from "../support/temp-dir.ts";

const LOCK_MODULE = join(import.meta.dir, "../../src/store/lock.ts");

/** Runs `fn` while a child process holds the lock, then kills the child with SIGKILL. */
async function whileHeldByChild(stateFile: string, fn: (pid: number) => void): Promise<void> {
  const child = await holdInChild(stateFile);
  try {
    fn(child.pid);
  } finally {
    child.kill("SIGKILL");
    await child.exited;
  }
}

/** A child process that takes the lock, says so on stdout, and then waits to be killed. */
async function holdInChild(stateFile: string) {
  const script = `const { acquireStateLock } = await import(${JSON.stringify(LOCK_MODULE)}); acquireStateLock(${JSON.stringify(stateFile)}); console.log("held"); setInterval(() => {}, 1000);`;
  const child = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" });
  const reader = child.stdout.getReader();
  const { value } = await Promise.race([reader.read(), Bun.sleep(10_000).then(() => ({ value: undefined }))]);
  reader.releaseLock();
  if (!new TextDecoder().decode(value).includes("held")) {
    child.kill("SIGKILL");
    throw new Error(`the child did not take the lock: ${await new Response(child.stderr).text()}`);
  }
  return child;
}

describe("the state file's lock", () => {
  test("one holder at a time in a process; released, it can be taken again", () => {
    using dir = tempDir();
    const state = dir.file("configs.json");
    expect(lockHolder(state)).toBeUndefined();
    const lock = acquireStateLock(state);
    expect(lockHolder(state)).toEqual({ pid: process.pid });
    const error = thrown(() => acquireStateLock(state));
    expect(error).toMatchObject({ code: "already_running" });
    expect(String(error)).toContain(`process ${process.pid} holds ${lockPathOf(state)}`);
    lock.release();
    lock.release();
    expect(lockHolder(state)).toBeUndefined();
    acquireStateLock(state).release();
  });

  test("a holder killed with SIGKILL lets go of it; while it lives, its pid is named", async () => {
    using dir = tempDir();
    const state = dir.file("configs.json");
    await whileHeldByChild(state, (pid) => {
      expect(lockHolder(state)).toEqual({ pid });
      expect(String(thrown(() => acquireStateLock(state)))).toContain(`process ${pid}`);
    });
    expect(lockHolder(state)).toBeUndefined();
    acquireStateLock(state).release();
  });

  test("without /proc/locks the holder is still seen, by a lock probe", async () => {
    using dir = tempDir();
    const state = dir.file("configs.json");
    await whileHeldByChild(state, () => {
      expect(lockHolder(state, () => undefined)).toEqual({ pid: undefined });
    });
    expect(lockHolder(state, () => "")).toBeUndefined();
  });
});
