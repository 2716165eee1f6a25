// A load-generator process: the benchmark starts one per role so that generators never share an event loop with each other or the relay.
import { runApi, type ApiSpec } from "./api.ts";
import { runEcho, type EchoSpec } from "./echo.ts";
import { runIdle, type IdleSpec } from "./idle.ts";
import { deadline, fail } from "./io.ts";
import { runPing, type PingSpec } from "./ping.ts";
import { runSink, type SinkSpec } from "./sink.ts";
import { runSource, type SourceSpec } from "./source.ts";

export type GenSpec = (SourceSpec | SinkSpec | EchoSpec | PingSpec | IdleSpec | ApiSpec) & { deadlineMs: number };

const spec = JSON.parse(process.argv[2] ?? "{}") as GenSpec;
deadline(spec.deadlineMs, spec.role);
try {
  switch (spec.role) {
    case "source":
      await runSource(spec);
      break;
    case "sink":
      await runSink(spec);
      break;
    case "echo":
      await runEcho(spec);
      break;
    case "ping":
      await runPing(spec);
      break;
    case "idle":
      await runIdle(spec);
      break;
    case "api":
      await runApi(spec);
      break;
  }
} catch (error) {
  fail(error);
}
