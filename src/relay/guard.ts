// Slows passcode guessing: an address that keeps presenting wrong passcodes gets few, slow answers, while right ones pass at once.

/** How guessing is recognised and how long an address pays for it. */
export interface GuessLimits {
  /** Wrong passcodes from one address within `windowMs` that start a penalty. Default 10. */
  failures: number;
  windowMs: number;
  /** How long the penalty lasts after the last wrong passcode, ms. Default 5 minutes. */
  penaltyMs: number;
  /** Connections a penalized address may have in handshake on one port at once. Default 4. */
  pendingPerAddress: number;
}

export const DEFAULT_GUESS_LIMITS: GuessLimits = { failures: 10, windowMs: 60_000, penaltyMs: 300_000, pendingPerAddress: 4 };

/** Addresses remembered at most; the longest-quiet is forgotten first, so a spoofing flood cannot grow memory. */
const MAX_ADDRESSES = 10_000;

export interface Guard {
  /** Records a wrong passcode from `address`. */
  failed(address: string, now: number): void;
  /** Whether `address` is paying a penalty now. */
  penalized(address: string, now: number): boolean;
  readonly limits: GuessLimits;
}

interface Record {
  windowStart: number;
  failures: number;
  /** End of the penalty; 0 = none. */
  until: number;
}

export function createGuard(limits: GuessLimits = DEFAULT_GUESS_LIMITS): Guard {
  const records = new Map<string, Record>();
  return {
    limits,
    failed(address, now) {
      let record = records.get(address);
      if (record !== undefined) records.delete(address); // re-inserted below: the Map keeps the quietest first
      else if (records.size >= MAX_ADDRESSES) records.delete(records.keys().next().value!);
      record ??= { windowStart: now, failures: 0, until: 0 };
      if (now - record.windowStart > limits.windowMs) {
        record.windowStart = now;
        record.failures = 0;
      }
      record.failures++;
      if (record.failures >= limits.failures || record.until > now) record.until = now + limits.penaltyMs;
      records.set(address, record);
    },
    penalized(address, now) {
      const record = records.get(address);
      if (record === undefined || record.until === 0) return false;
      if (record.until > now) return true;
      records.delete(address);
      return false;
    },
  };
}
