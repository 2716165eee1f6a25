import { describe, expect, test } from "bun:test";
import { availableParallelism } from "node:os";
import { createHistogram } from "../../src/metrics/histogram.ts";
import { randomPortRange, startTestDaemon } from "../support/daemon.ts";
import { parseExposition } from "../support/exposition.ts";
import { makeTestCert } from "../support/tls.ts";

const PUBLIC = JSON.stringify({ type: "public", maxconnections: 60, heartbeatabsencethreshold: 200000 });

describe("histogram", () => {
  test("cumulative buckets, sum and count", () => {
    const h = createHistogram([0.1, 1]);
    h.observe('endpoint="x"', 0.05);
    h.observe('endpoint="x"', 0.5);
    h.observe('endpoint="x"', 5);
    expect(h.render("_s")).toEqual([
      '_s_bucket{endpoint="x",le="0.1"} 1',
      '_s_bucket{endpoint="x",le="1"} 2',
      '_s_bucket{endpoint="x",le="+Inf"} 3',
      '_s_sum{endpoint="x"} 5.55',
      '_s_count{endpoint="x"} 3',
    ]);
  });
});

describe("GET /metrics", () => {
  test("global gauges, API requests and state writes are exact", async () => {
    await using d = await startTestDaemon();
    const added = (await d.post("/api/v2/mapping/add", { mapping: PUBLIC })).body;
    await d.post("/api/v2/mapping/add", {});
    await d.post("/api/v2/direct/add", {});
    const response = await fetch(`${d.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    const samples = parseExposition(await response.text());
    expect(samples.get("iofog_connector_mappings")).toBe(1);
    expect(samples.get("iofog_connector_direct_connections")).toBe(1);
    expect(samples.get("iofog_connector_ports")).toBe(200);
    expect(samples.get("iofog_connector_ports_free")).toBe(198);
    expect(samples.get('iofog_connector_api_requests_total{endpoint="/api/v2/mapping/add",status="200"}')).toBe(1);
    expect(samples.get('iofog_connector_api_requests_total{endpoint="/api/v2/mapping/add",status="400"}')).toBe(1);
    expect(samples.get('iofog_connector_state_writes_total{result="ok"}')).toBe(2);
    expect(samples.get("iofog_connector_state_write_seconds_count")).toBe(2);
    expect(samples.get('iofog_connector_api_request_seconds_count{endpoint="/api/v2/mapping/add"}')).toBe(2);
    expect(samples.get(`iofog_connector_port_active{port="${added.port1}",mapping="${added.id}"}`)).toBe(1);
    expect(samples.get(`iofog_connector_agents{port="${added.port1}"}`)).toBe(0);
    expect(samples.get(`iofog_connector_received_bytes_total{port="${added.port1}"}`)).toBe(0);
    expect(samples.get(`iofog_connector_clients_held{port="${added.port2}"}`)).toBe(0);
    expect(samples.get('iofog_connector_handshakes_rejected_total{reason="passcode"}')).toBe(0);
    expect(samples.get("iofog_connector_relay_threads")).toBe(availableParallelism());
    expect(samples.get("iofog_connector_relay_thread_restarts_total")).toBe(0);
    expect(samples.get("process_resident_memory_bytes")).toBeGreaterThan(1_000_000);
    expect(samples.get("process_open_fds")).toBeGreaterThan(3);
  });

  test("POST /metrics is 405; allowedControllers applies; metricsPort serves it on loopback too", async () => {
    await using d = await startTestDaemon({ metricsPort: 0 });
    expect((await fetch(`${d.url}/metrics`, { method: "POST" })).status).toBe(405);
    expect(d.daemon.metricsPort).toBeGreaterThan(0);
    const text = await fetch(`http://127.0.0.1:${d.daemon.metricsPort}/metrics`).then((r) => r.text());
    expect(text).toContain("iofog_connector_info");
    expect((await fetch(`http://127.0.0.1:${d.daemon.metricsPort}/api/v2/status`, { method: "POST" })).status).toBe(404);
  });

  test("over TLS the streamed answer arrives whole, with a series for each of 150 mappings' ports", async () => {
    using cert = makeTestCert();
    await using d = await startTestDaemon({ dev: false, certFile: cert.certFile, keyFile: cert.keyFile, ports: [randomPortRange(300)] });
    for (let i = 0; i < 150; i++) expect((await d.post("/api/v2/mapping/add", { mapping: PUBLIC })).status).toBe(200);
    const text = await fetch(`${d.url}/metrics`, { tls: { ca: cert.cert } } as RequestInit).then((r) => r.text());
    const samples = parseExposition(text);
    expect([...samples.keys()].filter((key) => key.startsWith("iofog_connector_port_active{")).length).toBe(300);
    expect(text.endsWith(`process_open_fds ${samples.get("process_open_fds")}\n`)).toBe(true);
  });
});
