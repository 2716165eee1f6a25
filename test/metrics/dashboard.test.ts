import { expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startTestDaemon } from "../support/daemon.ts";
import { parseExposition } from "../support/exposition.ts";
import { tempDir } from "../support/temp-dir.ts";
import { promtool } from "./promtool.ts";

const DASHBOARD = join(import.meta.dir, "../../examples/grafana/iofog-connector-dashboard.json");
const METRIC = /\b(?:iofog_connector|process)_[a-z0-9_]+/g;

interface Panel {
  id: number;
  targets: { expr: string }[];
}
const panels = (): Panel[] => JSON.parse(readFileSync(DASHBOARD, "utf8")).panels;

test("every metric the Grafana dashboard queries is in a real /metrics answer", async () => {
  const queried = new Set<string>();
  for (const panel of panels()) for (const target of panel.targets) for (const name of target.expr.match(METRIC) ?? []) queried.add(name);
  expect(queried.size).toBeGreaterThan(10);

  await using d = await startTestDaemon();
  await d.post("/api/v2/mapping/add", { mapping: JSON.stringify({ type: "public", maxconnections: 1, heartbeatabsencethreshold: 0 }) });
  await d.post("/api/v2/mapping/add", { mapping: "{" });
  const exposed = new Set(Array.from(parseExposition(await fetch(`${d.url}/metrics`).then((r) => r.text())).keys(), (key) => key.split("{")[0]!));
  const missing = [...queried].filter((name) => !exposed.has(name));
  expect(missing).toEqual([]);
});

test("every query of the Grafana dashboard is valid PromQL (promtool check rules)", () => {
  const rules = panels().flatMap((panel) => panel.targets.map((target, i) => ({ record: `dashboard:panel${panel.id}:${i}`, expr: target.expr })));
  using dir = tempDir();
  // A rules file is YAML, of which JSON is a subset.
  writeFileSync(dir.file("dashboard-rules.yml"), JSON.stringify({ groups: [{ name: "dashboard", rules }] }));
  const check = promtool(["check", "rules", dir.file("dashboard-rules.yml")]);
  expect(check.exit).toBe(0);
});
