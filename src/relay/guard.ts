// Counts failures per key (an address, or an address on a port) and penalizes a key that fails often:
// wrong passcodes (guessing), and connections that never finish their handshake (flooding).

/** When failures start a penalty, and how long a key pays for it. */
export interface PenaltyLimits {
  /** Failures of one key within `windowMs` that start a penalty. */
  failures: number;
  windowMs: number;
  /** How long the penalty lasts after the last failure, ms. */
  penaltyMs: number;
}

/** How passcode guessing is recognised (per address and port) and what it costs. */
export interface GuessLimits extends PenaltyLimits {
  /**
   * Unanswered wrong passcodes (tarpits) a penalized address keeps on one port; when it needs a slot
   * beyond them, its oldest tarpit is closed to make room. Default 4.
   */
  pendingPerAddress: number;
}

export const DEFAULT_GUESS_LIMITS: GuessLimits = { failures: 10, windowMs: 60_000, penaltyMs: 300_000, pendingPerAddress: 4 };

/** Keys remembered at most; the longest-quiet is forgotten first, so a spoofing flood cannot grow memory. */
const MAX_KEYS = 10_000;

export interface Guard<L extends PenaltyLimits = GuessLimits> {
  /** Records a failure of `key`. */
  failed(key: string, now: number): void;
  /** Whether `key` is paying a penalty now. */
  penalized(key: string, now: number): boolean;
  readonly limits: L;
}

interface Record {
  windowStart: number;
  failures: number;
  /** End of the penalty; 0 = none. */
  until: number;
}

export function createGuard<L extends PenaltyLimits = GuessLimits>(limits: L): Guard<L> {
  const records = new Map<string, Record>();
  return {
    limits,
    failed(key, now) {
      let record = records.get(key);
      if (record !== undefined) records.delete(key); // re-inserted below: the Map keeps the quietest first
      else if (records.size >= MAX_KEYS) records.delete(records.keys().next().value!);
      record ??= { windowStart: now, failures: 0, until: 0 };
      if (now - record.windowStart > limits.windowMs) {
        record.windowStart = now;
        record.failures = 0;
      }
      record.failures++;
      if (record.failures >= limits.failures || record.until > now) record.until = now + limits.penaltyMs;
      records.set(key, record);
    },
    penalized(key, now) {
      const record = records.get(key);
      if (record === undefined || record.until === 0) return false;
      if (record.until > now) return true;
      records.delete(key);
      return false;
    },
  };
}
