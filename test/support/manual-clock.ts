// A clock that moves only when a test says so.
import type { Clock } from "../../src/clock.ts";

export interface ManualClock extends Clock {
  /** Moves time forward, running every timer that falls due, in order. */
  advance(ms: number): void;
}

interface Timer {
  due: number;
  period: number;
  fn: () => void;
  cancelled: boolean;
}

export function manualClock(start = 1_700_000_000_000): ManualClock {
  let now = start;
  const timers: Timer[] = [];
  const add = (ms: number, period: number, fn: () => void) => {
    const timer: Timer = { due: now + ms, period, fn, cancelled: false };
    timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  };
  return {
    now: () => now,
    after: (ms, fn) => add(ms, 0, fn),
    every: (ms, fn) => add(ms, ms, fn),
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const live = timers.filter((t) => !t.cancelled && t.due <= end);
        if (live.length === 0) break;
        const next = live.reduce((a, b) => (b.due < a.due ? b : a));
        now = next.due;
        if (next.period > 0) next.due += next.period;
        else next.cancelled = true;
        next.fn();
      }
      now = end;
      for (let i = timers.length - 1; i >= 0; i--) if (timers[i]!.cancelled) timers.splice(i, 1);
    },
  };
}
