// Command-line options of the benchmark.
import { join } from "node:path";
import { FULL, QUICK, type Profile } from "./profile.ts";

export const SUITES = ["startup", "control", "restore", "scrape", "isolation", "idle", "throughput", "streams", "hosting", "latency", "active", "versus"] as const;

/** The release the "versus" suite compares with unless --baseline or --baseline-ref says otherwise: 2.0.0. */
export const BASELINE_REF = "d17abf7";
export type SuiteName = (typeof SUITES)[number];

export interface Options {
  profile: Profile;
  /** The executable under test. */
  exe: string;
  /** Build the executable first (bun scripts/build.ts --host). */
  build: boolean;
  suites: SuiteName[];
  /** Where results.md and results.json go; scripts/bench/results/<profile> when absent. */
  out: string | undefined;
  /** The build "versus" compares with: an executable, or a git revision built first. */
  baseline: { exe: string } | { ref: string };
  /** The highest port the run's pools use; just below the kernel's ephemeral range when absent. */
  portTop: number | undefined;
}

export const USAGE = `Usage: bun scripts/bench/index.ts [--quick] [--exe PATH] [--no-build] [--only SUITE,...] [--out DIR]
  --quick      about a minute: one repetition, smaller byte counts (default: full run, about 10 minutes)
  --exe PATH   executable to measure (default: dist/iofog-connector-linux-<arch>, built first)
  --no-build   do not run scripts/build.ts --host first
  --only LIST  run only these suites: ${SUITES.join(", ")}
  --out DIR    write results.md and results.json there (default: scripts/bench/results/full or quick)
  --baseline EXE      the executable the "versus" suite compares this build with
  --baseline-ref REF  or the git revision to build it from (default: ${BASELINE_REF}, the 2.0.0 release)
  --port-top N the highest port the run's pools use (default: just below the kernel's ephemeral range);
               the pools take the 23,000 ports below it, so two runs on one machine need tops that far apart`;

export function parseArgs(argv: string[], root: string): Options {
  const options: Options = {
    profile: FULL,
    exe: join(root, "dist", `iofog-connector-linux-${process.arch}`),
    build: true,
    suites: [...SUITES],
    out: undefined,
    baseline: { ref: BASELINE_REF },
    portTop: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value\n${USAGE}`);
      return v;
    };
    if (arg === "--quick") options.profile = QUICK;
    else if (arg === "--exe") {
      options.exe = value();
      options.build = false;
    } else if (arg === "--no-build") options.build = false;
    else if (arg === "--out") options.out = value();
    else if (arg === "--baseline") options.baseline = { exe: value() };
    else if (arg === "--baseline-ref") options.baseline = { ref: value() };
    else if (arg === "--port-top") {
      const top = Number(value());
      if (!Number.isInteger(top) || top < 24_000 || top > 65_535) throw new Error(`--port-top takes a port from 24000 to 65535\n${USAGE}`);
      options.portTop = top;
    }
    else if (arg === "--only") {
      const names = value().split(",");
      for (const name of names) if (!(SUITES as readonly string[]).includes(name)) throw new Error(`unknown suite ${name}\n${USAGE}`);
      options.suites = names as SuiteName[];
    } else if (arg === "--help" || arg === "-h") {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown option ${arg}\n${USAGE}`);
  }
  return options;
}
