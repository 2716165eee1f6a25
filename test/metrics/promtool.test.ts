// Prometheus's own linter on a real /metrics answer: mappings, relayed bytes, a reject and a heartbeat timeout in it.
import { expect, test } from "bun:test";
import { startBusyDaemon } from "./busy-daemon.ts";
import { promtool } from "./promtool.ts";

for (const metricsPerMappingRejects of [false, true]) {
  test(`promtool check metrics finds nothing${metricsPerMappingRejects ? " (metricsPerMappingRejects)" : ""}`, async () => {
    await using d = await startBusyDaemon({ metricsPerMappingRejects });
    expect(promtool(["check", "metrics"], await d.scrape())).toEqual({ exit: 0, output: "" });
  });
}
