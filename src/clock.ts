// Time as a dependency, so that heartbeats, timeouts and expiry are tested without sleeping.

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `fn` once after `ms`; the returned function cancels it. */
  after(ms: number, fn: () => void): () => void;
  /** Runs `fn` every `ms`; the returned function cancels it. */
  every(ms: number, fn: () => void): () => void;
}

/** The real clock. Timers are unref'd so that they never keep a finished process alive. */
export function systemClock(): Clock {
  return {
    now: () => Date.now(),
    after(ms, fn) {
      const timer = setTimeout(fn, ms);
      timer.unref();
      return () => clearTimeout(timer);
    },
    every(ms, fn) {
      const timer = setInterval(fn, ms);
      timer.unref();
      return () => clearInterval(timer);
    },
  };
}
