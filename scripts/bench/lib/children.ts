// Every process the benchmark starts is recorded here so that any exit, Ctrl-C or failure stops all of them.
import type { Subprocess } from "bun";

const live = new Set<Subprocess>();
let hooked = false;

/** setpriv makes the kernel kill the child if this process dies without running its handlers (kill -9). */
const deathWrap = Bun.which("setpriv") ? ["setpriv", "--pdeathsig", "KILL", "--"] : [];

export interface SpawnOptions {
  stdout?: "pipe" | "ignore" | "inherit" | ReturnType<typeof Bun.file>;
  stderr?: "pipe" | "ignore" | "inherit" | ReturnType<typeof Bun.file>;
  stdin?: "pipe" | "ignore";
  env?: Record<string, string | undefined>;
  cwd?: string;
}

/** Starts a process that is killed when the benchmark ends, however it ends. */
export function spawnTracked(cmd: string[], options: SpawnOptions = {}) {
  hookExit();
  const child = Bun.spawn([...deathWrap, ...cmd], {
    stdout: options.stdout ?? "ignore",
    stderr: options.stderr ?? "inherit",
    stdin: options.stdin ?? "ignore",
    env: options.env ?? (process.env as Record<string, string>),
    cwd: options.cwd,
  });
  live.add(child);
  void child.exited.then(() => live.delete(child));
  return child;
}

/** Asks a process to stop (SIGTERM), then kills it if it has not exited within `graceMs`. */
export async function stopChild(child: Subprocess, graceMs = 3000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  try {
    return await child.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Kills every live child at once; used on the way out. */
export function killAll(): void {
  for (const child of live) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone: nothing to kill
    }
  }
  live.clear();
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", killAll);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      console.error(`\nbench: ${signal}, stopping every process it started`);
      killAll();
      process.exit(130);
    });
  }
}
