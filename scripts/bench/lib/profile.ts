// How much each measurement does: the full run (about 10 minutes on 2 cores) or --quick (about a minute).

export interface Profile {
  name: "full" | "quick";
  throughput: { reps: number; bytesPerRun: number; streams: number[] };
  latency: { reps: number; warmup: number; count: number; size: number };
  restore: { reps: number; mappings: number };
  idle: { agents: number; perMapping: number; idleSeconds: number; beatMs: number };
  active: { reps: number; pairs: number; bytesPerPair: number; perMapping: number };
  control: { reps: number; cycles: number; sizes: number[] };
  startup: { reps: number };
  scrape: { reps: number; mappings: number; scrapes: number };
  /** A relayed ping-pong alone and under API load, `seconds` each. */
  isolation: { reps: number; mappings: number; seconds: number };
  /** 8 streams over 8 mappings and over one, relay threads and the control thread relaying, against HAProxy. */
  streams: { reps: number; bytesPerRun: number; streams: number };
  /** This build against the baseline build: throughput and latency repetitions, idle TLS agents. */
  versus: { reps: number; bytesPerRun: number; idleAgents: number };
}

const GiB = 2 ** 30;
const MiB = 2 ** 20;

export const FULL: Profile = {
  name: "full",
  throughput: { reps: 4, bytesPerRun: 3 * GiB, streams: [1, 8] },
  latency: { reps: 7, warmup: 2000, count: 20_000, size: 64 },
  restore: { reps: 5, mappings: 9000 },
  idle: { agents: 8000, perMapping: 60, idleSeconds: 30, beatMs: 20_000 },
  active: { reps: 3, pairs: 2000, bytesPerPair: MiB, perMapping: 60 },
  control: { reps: 3, cycles: 400, sizes: [0, 1000, 9000] },
  startup: { reps: 15 },
  scrape: { reps: 3, mappings: 9000, scrapes: 10 },
  isolation: { reps: 3, mappings: 9000, seconds: 8 },
  streams: { reps: 3, bytesPerRun: 2 * GiB, streams: 8 },
  versus: { reps: 3, bytesPerRun: 2 * GiB, idleAgents: 4000 },
};

export const QUICK: Profile = {
  name: "quick",
  throughput: { reps: 1, bytesPerRun: 1 * GiB, streams: [1, 8] },
  latency: { reps: 2, warmup: 1000, count: 6000, size: 64 },
  restore: { reps: 1, mappings: 9000 },
  idle: { agents: 8000, perMapping: 60, idleSeconds: 4, beatMs: 20_000 },
  active: { reps: 1, pairs: 2000, bytesPerPair: MiB, perMapping: 60 },
  control: { reps: 1, cycles: 40, sizes: [0, 1000, 9000] },
  startup: { reps: 5 },
  scrape: { reps: 1, mappings: 9000, scrapes: 5 },
  isolation: { reps: 1, mappings: 9000, seconds: 4 },
  streams: { reps: 1, bytesPerRun: 512 * MiB, streams: 8 },
  versus: { reps: 1, bytesPerRun: 512 * MiB, idleAgents: 2000 },
};

/** What a suite that starts its own daemons needs: the executable, a scratch directory, a port range. */
export interface DaemonSuiteOptions {
  exe: string;
  dir: string;
  pool: [number, number];
}
