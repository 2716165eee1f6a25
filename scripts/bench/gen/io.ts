// How a generator process talks to the benchmark: one JSON object per stdout line, commands on stdin lines.

export function emit(event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`);
}

/** CPU seconds this generator has used so far (user + system). */
export function ownCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** Milliseconds since the epoch with sub-millisecond precision, comparable across processes. */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Calls `onLine` for every command line on stdin; the process exits when stdin closes. */
export function onCommands(onLine: (line: string) => void): void {
  void (async () => {
    for await (const line of console) onLine(line.trim());
    process.exit(0);
  })();
}

/** Ends the process with a message if the work has not finished by then. */
export function deadline(ms: number, what: string): void {
  setTimeout(() => {
    emit("error", { message: `${what} did not finish within ${ms} ms` });
    process.exit(2);
  }, ms);
}

export function fail(error: unknown): never {
  emit("error", { message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
}
