// Runs Prometheus's promtool (Debian package prometheus, installed by scripts/test.sh) and returns its exit code and output.

export function promtool(args: string[], stdin?: string): { exit: number | null; output: string } {
  const exe = Bun.which("promtool");
  if (exe === null) throw new Error("promtool is missing: scripts/test.sh installs it (apt-get install --no-install-recommends prometheus, Debian's package that ships it).");
  const run = Bun.spawnSync([exe, ...args], { stdin: stdin === undefined ? "ignore" : Buffer.from(stdin), timeout: 30_000 });
  return { exit: run.exitCode, output: `${run.stdout}${run.stderr}` };
}
