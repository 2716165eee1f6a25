import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startTestDaemon } from "../support/daemon.ts";
import { parseExposition } from "../support/exposition.ts";

const DASHBOARD = join(import.meta.dir, "../../examples/grafana/iofog-connector-dashboard.json");
const METRIC = /\b(?:iofog_connector|process)_[a-z0-9_]+/g;

test("every metric the Grafana dashboard queries is in a real /metrics answer", async () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8"));
  const queried = new Set<string>();
  for (const panel of dashboard.panels) for (const target of panel.targets) for (const name of target.expr.match(METRIC) ?? []) queried.add(name);
  expect(queried.size).toBeGreaterThan(10);

  await using d = await startTestDaemon();
  await d.post("/api/v2/mapping/add", { mapping: JSON.stringify({ type: "public", maxconnections: 1, heartbeatabsencethreshold: 0 }) });
  await d.post("/api/v2/mapping/add", { mapping: "{" });
  const exposed = new Set(Array.from(parseExposition(await fetch(`${d.url}/metrics`).then((r) => r.text())).keys(), (key) => key.split("{")[0]!));
  const missing = [...queried].filter((name) => !exposed.has(name));
  expect(missing).toEqual([]);
});
