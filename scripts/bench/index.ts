// `npm run bench`: measures the compiled Connector against direct loopback and HAProxy in one interleaved run and prints the table.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs, type SuiteName } from "./lib/args.ts";
import { killAll } from "./lib/children.ts";
import { ephemeralStart } from "./lib/ports.ts";
import { quiet, quietTally } from "./lib/quiet.ts";
import { makeCertificate } from "./lib/tls-cert.ts";
import { describeMachine } from "./report/machine.ts";
import type { Section } from "./report/model.ts";
import { renderReport } from "./report/render.ts";
import { runActive } from "./suites/active.ts";
import { runControl } from "./suites/control.ts";
import { runHosting } from "./suites/hosting.ts";
import { runIdle } from "./suites/idle.ts";
import { runIsolation } from "./suites/isolation.ts";
import { runStreams } from "./suites/streams.ts";
import { runLatency } from "./suites/latency.ts";
import { runRestore } from "./suites/restore.ts";
import { runScrape } from "./suites/scrape.ts";
import { runStartup } from "./suites/startup.ts";
import { runThroughput } from "./suites/throughput.ts";
import { runVersus } from "./suites/versus.ts";
import { buildBaseline } from "./lib/baseline.ts";
import { startWorld, type World } from "./suites/world.ts";
import { ensureHaproxy } from "./targets/haproxy.ts";

const root = join(import.meta.dir, "..", "..");
const began = performance.now();
const startedAt = new Date();
const log = (line: string) => console.error(`[${((performance.now() - began) / 1000).toFixed(0).padStart(4)} s] ${line}`);

const options = parseArgs(process.argv.slice(2), root);
if (options.build) {
  log("building the executable: bun scripts/build.ts --host");
  const build = Bun.spawnSync([process.execPath, join(root, "scripts/build.ts"), "--host"], { cwd: root, stdout: "inherit", stderr: "inherit", timeout: 300_000 });
  if (build.exitCode !== 0) {
    console.error("bench: the build failed; nothing was measured.");
    process.exit(1);
  }
}
if (!(await Bun.file(options.exe).exists())) {
  console.error(`bench: no executable at ${options.exe}`);
  process.exit(1);
}

// Pools below the kernel's ephemeral range, so outgoing test connections never hold a pool port (or below --port-top, for a
// second run on the same machine: a pool port an outgoing connection holds is then skipped).
const top = options.portTop ?? Math.min(ephemeralStart() - 1, 65535);
if (top < 32_000 || top >= ephemeralStart()) log(`warning: the ephemeral port range starts at ${ephemeralStart()}; the pools (up to ${top}) may overlap it`);
const big: [number, number] = [top - 20_999, top];
const pools = { plain: [big[0] - 1000, big[0] - 501] as [number, number], tls: [big[0] - 500, big[0] - 1] as [number, number] };
const inprocPools = { plain: [big[0] - 3000, big[0] - 2501] as [number, number], tls: [big[0] - 2500, big[0] - 2001] as [number, number] };
const baselinePools = { plain: [big[0] - 2000, big[0] - 1501] as [number, number], tls: [big[0] - 1500, big[0] - 1001] as [number, number] };

const dir = mkdtempSync(join(tmpdir(), "iofog-bench-"));
const sections: Section[] = [];
const failures: string[] = [];
let world: World | undefined;
let baselineWorld: World | undefined;
let inprocWorld: World | undefined;
let haproxyVersion = "HAProxy (not used)";

async function suite(name: SuiteName, run: () => Promise<Section>): Promise<void> {
  if (!options.suites.includes(name)) return;
  await quiet(0.15, 10_000);
  log(`— ${name}`);
  try {
    sections.push(await run());
  } catch (error) {
    const message = `${name}: ${error instanceof Error ? error.message : String(error)}`;
    log(`FAILED ${message}`);
    failures.push(message);
  }
}

try {
  const certs = makeCertificate(dir);
  const { exe, profile } = options;
  const needWorld = options.suites.some((s) => s === "throughput" || s === "streams" || s === "hosting" || s === "latency" || s === "active" || s === "versus");
  if (needWorld) haproxyVersion = ensureHaproxy();
  await suite("startup", () => runStartup({ exe, dir, pool: big }, profile, log));
  await suite("control", () => runControl({ exe, dir, pool: big }, profile, log));
  await suite("restore", () => runRestore({ exe, dir, pool: big }, profile, log));
  await suite("scrape", () => runScrape({ exe, dir, pool: big }, profile, log));
  await suite("isolation", () => runIsolation({ exe, dir, pool: big }, profile, log));
  await suite("idle", () => runIdle({ exe, dir, pool: big }, profile, log));
  if (needWorld) {
    log("starting the plain and TLS Connectors and HAProxy for the relay measurements");
    world = await startWorld({ exe, dir: join(dir, "world"), certs, pools });
    const w = world;
    await suite("throughput", () => runThroughput(w, profile, log));
    if (options.suites.includes("streams") || options.suites.includes("hosting")) {
      log("starting plain and TLS Connectors with relayThreads 0 for the comparison");
      inprocWorld = await startWorld({ exe, dir: join(dir, "inproc"), certs, pools: inprocPools, haproxy: false, settings: { relayThreads: 0 } });
      const inproc = inprocWorld;
      await suite("streams", () => runStreams({ threads: w, inproc }, profile, log));
      await suite("hosting", () => runHosting({ threads: w, inproc }, profile, log));
      await inprocWorld.stop();
      inprocWorld = undefined;
    }
    await suite("latency", () => runLatency(w, profile, log));
    await suite("active", () => runActive(w, profile, log));
    if (options.suites.includes("versus")) {
      const baseline = options.baseline;
      const baselineExe = "exe" in baseline ? baseline.exe : buildBaseline(root, baseline.ref, log);
      const baselineName = "exe" in baseline ? baseline.exe : `baseline ${baseline.ref}`;
      log(`starting the baseline's plain and TLS Connectors (${baselineExe})`);
      baselineWorld = await startWorld({ exe: baselineExe, dir: join(dir, "baseline"), certs, pools: baselinePools, haproxy: false });
      const b = baselineWorld;
      await suite("versus", () => runVersus({ this: w, baseline: b }, { exe, baselineExe, baselineName, dir, pool: big, certs }, profile, log));
    }
  }
} catch (error) {
  failures.push(error instanceof Error ? error.message : String(error));
} finally {
  await world?.stop().catch(() => undefined);
  await baselineWorld?.stop().catch(() => undefined);
  await inprocWorld?.stop().catch(() => undefined);
  killAll();
}

const command = ["bun scripts/bench/index.ts", ...process.argv.slice(2)].join(" ");
const report = renderReport(
  {
    machine: describeMachine(options.exe, haproxyVersion, root),
    command,
    profile: options.profile.name,
    startedAt,
    seconds: (performance.now() - began) / 1000,
    busyStarts: quietTally.busy,
    starts: quietTally.quiet + quietTally.busy,
  },
  sections,
  failures,
);
console.log(`\n${report}`);
const out = options.out ?? join(import.meta.dir, "results", options.profile.name);
mkdirSync(out, { recursive: true });
writeFileSync(join(out, "results.md"), report);
writeFileSync(join(out, "results.json"), JSON.stringify({ command, profile: options.profile, failures, sections }, null, 2));
log(`results written to ${out}`);
if (failures.length === 0) rmSync(dir, { recursive: true, force: true });
else log(`logs of the failed run kept in ${dir}`);
process.exit(failures.length === 0 ? 0 : 1);
