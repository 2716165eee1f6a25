// The Go test agent (test/support/go-agent): built once per run with the machine's Go, run as a child process.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const source = join(import.meta.dir, "go-agent");

/** Builds the agent unless this very source was built already; returns the executable's path. */
export function goAgentPath(): string {
  const hash = createHash("sha256");
  for (const file of readdirSync(source).filter((name) => name === "go.mod" || name.endsWith(".go")).sort()) hash.update(readFileSync(join(source, file)));
  const out = join(tmpdir(), `iofog-go-agent-${hash.digest("hex").slice(0, 16)}`);
  if (existsSync(out)) return out;
  const built = Bun.spawnSync(["go", "build", "-o", `${out}.tmp`, "."], { cwd: source, stderr: "pipe" });
  if (built.exitCode !== 0) throw new Error(`go build of the test agent failed: ${built.stderr.toString()}`);
  Bun.spawnSync(["mv", `${out}.tmp`, out]);
  return out;
}

export interface GoAgentRun<T> {
  /** Resolves with the agent's report once it exits; rejects when it exits non-zero or prints no report. */
  result: Promise<T>;
  kill(): void;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Runs the agent in `mode` with `flags`; `-deadline` bounds it (the test passes one shorter than its own
 * timeout), so it always exits and reports.
 */
export function runGoAgent<T = Record<string, unknown>>(mode: "private" | "public-agent" | "public-client", flags: Record<string, string | number | boolean>): GoAgentRun<T> {
  const args = Object.entries(flags).map(([k, v]) => (v === true ? `-${k}` : `-${k}=${v}`));
  const child = Bun.spawn([goAgentPath(), mode, ...args], { stdout: "pipe", stderr: "pipe" });
  const result = (async () => {
    const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    const line = out.trim().split("\n").pop() ?? "";
    if (code !== 0 || !line.startsWith("{")) throw new Error(`go agent ${mode} exited ${code}: ${out}${err}`);
    return JSON.parse(line) as T;
  })();
  return {
    result,
    kill: () => child.kill(),
    async [Symbol.asyncDispose]() {
      // A report nobody waited for is not a failure of the test that disposes of it.
      result.catch(() => {});
      child.kill();
      await child.exited;
    },
  };
}
