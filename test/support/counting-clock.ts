// A clock that counts its live timers, to show that nothing scheduled outlives what scheduled it.
import type { Clock } from "../../src/clock.ts";

export interface CountingClock extends Clock {
  /** Timers scheduled and neither cancelled nor (for `after`) fired. */
  readonly live: number;
}

export function countingClock(inner: Clock): CountingClock {
  let live = 0;
  const track = (schedule: (fn: () => void) => () => void, once: boolean, fn: () => void) => {
    let done = false;
    live++;
    const cancel = schedule(() => {
      if (once && !done) {
        done = true;
        live--;
      }
      fn();
    });
    return () => {
      if (done) return;
      done = true;
      live--;
      cancel();
    };
  };
  return {
    now: () => inner.now(),
    after: (ms, fn) => track((f) => inner.after(ms, f), true, fn),
    every: (ms, fn) => track((f) => inner.every(ms, f), false, fn),
    get live() {
      return live;
    },
  };
}
