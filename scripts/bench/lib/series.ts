// Figures keyed by configuration, one per repetition, so ratios can pair runs that ran side by side.
import { median, minMax } from "./stats.ts";

export class Series<T> {
  private readonly byKey = new Map<string, T[]>();

  add(key: string, value: T): void {
    const list = this.byKey.get(key) ?? [];
    list.push(value);
    this.byKey.set(key, list);
  }

  all(key: string): T[] {
    return this.byKey.get(key) ?? [];
  }

  median(key: string, pick: (value: T) => number): number {
    return median(this.all(key).map(pick));
  }

  range(key: string, pick: (value: T) => number): [number, number] {
    return minMax(this.all(key).map(pick));
  }

  /** Median over repetitions of `combine(a_i, b_i)`, pairing the i-th run of each (they ran side by side). */
  paired(a: string, b: string, combine: (left: T, right: T) => number): number {
    const left = this.all(a);
    const right = this.all(b);
    const n = Math.min(left.length, right.length);
    return median(Array.from({ length: n }, (_, i) => combine(left[i]!, right[i]!)));
  }

  /** Median over repetitions of `pick(a) / pick(b)`. */
  ratio(a: string, b: string, pick: (value: T) => number): number {
    return this.paired(a, b, (x, y) => pick(x) / pick(y));
  }

  toJSON(): Record<string, T[]> {
    return Object.fromEntries(this.byKey);
  }
}
