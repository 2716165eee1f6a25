// /metrics stays small as mappings grow: a bounded number of series per mapping, rejects as totals by reason.
import { expect, test } from "bun:test";
import { parseExposition } from "../support/exposition.ts";
import { rawConnect } from "../support/raw-socket.ts";
import { startBusyDaemon } from "./busy-daemon.ts";

/** Per-port series of a public mapping (2 listeners, 4 byte counters, agents, bound and held clients) and of a private one. */
const PUBLIC_SERIES = 9;
const PRIVATE_SERIES = 8;

const perPort = (samples: Map<string, number>) => [...samples.keys()].filter((key) => key.includes('port="'));

test("each mapping adds a fixed number of series, whatever its rejects and timeouts", async () => {
  await using d = await startBusyDaemon();
  const samples = parseExposition(await d.scrape());
  expect(perPort(samples).length).toBe(3 * PUBLIC_SERIES + 2 * PRIVATE_SERIES);
  // Only port_active names the mapping; every other per-port series joins it on `port`.
  expect([...samples.keys()].filter((key) => key.includes("mapping=")).every((key) => key.startsWith("iofog_connector_port_active{"))).toBe(true);
  expect(samples.get(`iofog_connector_port_active{port="${d.refused.port1}",mapping="${d.refused.id}"}`)).toBe(1);
  expect(samples.get(`iofog_connector_received_bytes_total{port="${d.relayed.port2}"}`)).toBe(5);
  expect(samples.get(`iofog_connector_sent_bytes_total{port="${d.relayed.port1}"}`)).toBe(5);
  expect(samples.get(`iofog_connector_agents{port="${d.privates[0]!.port2}"}`)).toBe(0);
});

test("a reject and a heartbeat timeout show in the totals by reason, and stay there once their mapping is removed", async () => {
  await using d = await startBusyDaemon();
  const expected = { passcode: 1, timeout: 0, limit: 0, throttled: 0, overload: 0, tls: 1 };
  const totals = (samples: Map<string, number>) =>
    Object.fromEntries(Object.keys(expected).map((reason) => [reason, samples.get(`iofog_connector_handshakes_rejected_total{reason="${reason}"}`)]));
  let samples = parseExposition(await d.scrape());
  expect(totals(samples)).toEqual(expected);
  expect(samples.get("iofog_connector_heartbeat_timeouts_total")).toBe(1);
  expect([...samples.keys()].some((key) => key.startsWith("iofog_connector_port_handshakes_rejected_total"))).toBe(false);

  for (const m of [d.refused, d.silent]) expect((await d.post("/api/v2/mapping/remove", { mappingid: m.id })).status).toBe(200);
  samples = parseExposition(await d.scrape());
  expect(totals(samples)).toEqual(expected);
  expect(samples.get("iofog_connector_heartbeat_timeouts_total")).toBe(1);
  expect(samples.get("iofog_connector_mappings")).toBe(3);
});

test("metricsPerMappingRejects lists the non-zero rejects and timeouts per port", async () => {
  await using d = await startBusyDaemon({ metricsPerMappingRejects: true });
  const samples = parseExposition(await d.scrape());
  const breakdown = [...samples].filter(([key]) => key.startsWith("iofog_connector_port_handshakes_rejected_total") || key.startsWith("iofog_connector_port_heartbeat_timeouts_total"));
  expect(breakdown).toEqual([
    [`iofog_connector_port_handshakes_rejected_total{port="${d.refused.port1}",reason="passcode"}`, 1],
    [`iofog_connector_port_handshakes_rejected_total{port="${d.refused.port1}",reason="tls"}`, 1],
    [`iofog_connector_port_heartbeat_timeouts_total{port="${d.silent.port1}"}`, 1],
  ]);
});

test("bytes an agent writes while no client is bound to its connection are counted as stale and dropped", async () => {
  await using d = await startBusyDaemon();
  // The relayed mapping allows two agent connections; the second has no client and writes anyway.
  using agent = await rawConnect(d.relayed.port1);
  agent.socket.write(d.relayed.passcode1);
  await agent.waitFor(10);
  agent.socket.write("stale!");
  // The scrape may come before the relay has read them: ask again, for 10 s at most.
  let samples = parseExposition(await d.scrape());
  for (const deadline = Date.now() + 10_000; samples.get("iofog_connector_stale_bytes_total") !== 6 && Date.now() < deadline; ) {
    await Bun.sleep(10);
    samples = parseExposition(await d.scrape());
  }
  expect(samples.get("iofog_connector_stale_bytes_total")).toBe(6);
  expect(samples.get("iofog_connector_tls_record_mismatches_total")).toBe(0);
});
