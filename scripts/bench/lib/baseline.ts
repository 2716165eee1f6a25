// The build to compare with: a git revision of this repository, built once into a cache directory.
import { existsSync, mkdirSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Builds `ref`'s executable for this machine (from `git archive`, with this tree's node_modules); returns its path. */
export function buildBaseline(root: string, ref: string, log: (line: string) => void): string {
  const commit = run(["git", "-C", root, "rev-parse", "--short=12", `${ref}^{commit}`]).trim();
  const dir = join(tmpdir(), `iofog-baseline-${commit}`);
  const exe = join(dir, "dist", `iofog-connector-linux-${process.arch}`);
  if (existsSync(exe)) return exe;
  log(`building the baseline ${ref} (${commit}) in ${dir}`);
  mkdirSync(dir, { recursive: true });
  const archive = Bun.spawnSync(["sh", "-c", `git -C "${root}" archive ${commit} | tar -x -C "${dir}"`], { stderr: "pipe" });
  if (archive.exitCode !== 0) throw new Error(`git archive ${ref} failed: ${archive.stderr.toString()}`);
  if (!existsSync(join(dir, "node_modules"))) symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  run([process.execPath, join(dir, "scripts", "build.ts"), "--host"], dir);
  if (!existsSync(exe)) throw new Error(`the baseline build left no executable at ${exe}`);
  return exe;
}

function run(argv: string[], cwd?: string): string {
  const result = Bun.spawnSync(argv, { cwd, stdout: "pipe", stderr: "pipe", timeout: 300_000 });
  if (result.exitCode !== 0) throw new Error(`${argv.join(" ")} failed: ${result.stderr.toString()}`);
  return result.stdout.toString();
}
