// Waits for the machine to go quiet (what the last step left behind, such as 8,000 sockets closing) before the next measurement.
import { readFileSync } from "node:fs";
import { sleep } from "./wait.ts";

function cpuTicks(): { busy: number; total: number } {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

/** How many waits ended quiet, and how many gave up because something else kept the machine busy. */
export const quietTally = { quiet: 0, busy: 0 };

/** Resolves once the whole machine's CPU stays under `share` for a 200 ms window, or after `maxMs` anyway. */
export async function quiet(share = 0.1, maxMs = 10_000): Promise<boolean> {
  const deadline = performance.now() + maxMs;
  while (performance.now() < deadline) {
    const a = cpuTicks();
    await sleep(200);
    const b = cpuTicks();
    if (b.total > a.total && (b.busy - a.busy) / (b.total - a.total) < share) {
      quietTally.quiet++;
      return true;
    }
  }
  quietTally.busy++;
  return false;
}

/** Reads `sample` every 250 ms until two readings 1 s apart differ by under 2%, for at most `maxMs`; returns the last. */
export async function settled(sample: () => number, maxMs = 10_000): Promise<number> {
  const deadline = performance.now() + maxMs;
  let previous = sample();
  while (performance.now() < deadline) {
    await sleep(1000);
    const now = sample();
    if (Math.abs(now - previous) <= 0.02 * previous) return now;
    previous = now;
  }
  return previous;
}
