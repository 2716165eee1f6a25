// Compiles the Connector into standalone executables in dist/: x64 (baseline CPUs, no AVX2 needed) and arm64.
// The relay thread's module is a second entry point: a Worker in a standalone executable loads only what was
// compiled in, at /$bunfs/root/ followed by its path below src/ (src/threads/thread.ts names it so).
// Usage: bun scripts/build.ts [--host]   (--host: only the executable for this machine)
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const targets = [
  { arch: "x64", bunTarget: "bun-linux-x64-baseline" },
  { arch: "arm64", bunTarget: "bun-linux-arm64" },
] as const;

const hostOnly = process.argv.includes("--host");
mkdirSync(join(root, "dist"), { recursive: true });
for (const { arch, bunTarget } of targets) {
  if (hostOnly && arch !== process.arch) continue;
  const outfile = join(root, "dist", `iofog-connector-linux-${arch}`);
  const started = performance.now();
  const result = Bun.spawnSync(
    [process.execPath, "build", "--compile", "--minify", "--bytecode", "--format=esm", `--target=${bunTarget}`, join(root, "src/main.ts"), join(root, "src/threads/worker.ts"), "--outfile", outfile],
    { cwd: root, stdout: "inherit", stderr: "inherit" },
  );
  if (result.exitCode !== 0) {
    console.error(`Building ${outfile} failed.`);
    process.exit(1);
  }
  console.log(`Built ${outfile} in ${((performance.now() - started) / 1000).toFixed(1)} s.`);
}
