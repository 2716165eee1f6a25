// A tiny tmpfs mounted for one test, to fill up or make read-only; needs root, as CI has.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Tmpfs {
  path: string;
  remount(mode: "ro" | "rw"): void;
  [Symbol.dispose](): void;
}

export const canMount = process.getuid?.() === 0;

export function mountTmpfs(sizeKiB: number): Tmpfs {
  const path = mkdtempSync(join(tmpdir(), "iofog-tmpfs-"));
  run(["mount", "-t", "tmpfs", "-o", `size=${sizeKiB}k,mode=0755`, "tmpfs", path]);
  return {
    path,
    remount: (mode) => run(["mount", "-o", `remount,${mode}`, path]),
    [Symbol.dispose]() {
      Bun.spawnSync(["umount", "-l", path]);
      rmSync(path, { recursive: true, force: true });
    },
  };
}

function run(command: string[]): void {
  const result = Bun.spawnSync(command, { timeout: 10_000 });
  if (result.exitCode !== 0) throw new Error(`${command.join(" ")} failed: ${result.stderr.toString()}`);
}
