// A Prometheus histogram: fixed buckets, one array of counts per label set, no allocation per observation.

export interface Histogram {
  observe(labels: string, seconds: number): void;
  /** Exposition lines for every label set, under `name`. */
  render(name: string): string[];
}

/** Latency buckets in seconds: 0.5 ms to 5 s. */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** `labels` is the rendered label list without braces (`endpoint="/api/v2/status"`), or "" for none. */
export function createHistogram(buckets: number[] = LATENCY_BUCKETS): Histogram {
  const series = new Map<string, { counts: Float64Array; sum: number; count: number }>();
  return {
    observe(labels, seconds) {
      let entry = series.get(labels);
      if (entry === undefined) {
        entry = { counts: new Float64Array(buckets.length), sum: 0, count: 0 };
        series.set(labels, entry);
      }
      for (let i = 0; i < buckets.length; i++) if (seconds <= buckets[i]!) entry.counts[i]!++;
      entry.sum += seconds;
      entry.count++;
    },
    render(name) {
      const lines: string[] = [];
      for (const [labels, { counts, sum, count }] of series) {
        const prefix = labels === "" ? "" : `${labels},`;
        buckets.forEach((le, i) => lines.push(`${name}_bucket{${prefix}le="${le}"} ${counts[i]}`));
        lines.push(`${name}_bucket{${prefix}le="+Inf"} ${count}`);
        const braces = labels === "" ? "" : `{${labels}}`;
        lines.push(`${name}_sum${braces} ${sum}`, `${name}_count${braces} ${count}`);
      }
      return lines;
    },
  };
}
