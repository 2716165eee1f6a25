import { expect, test } from "bun:test";
import { startTestDaemon } from "../support/daemon.ts";
import { scrapeWhen } from "../support/exposition.ts";
import { rawConnect } from "../support/raw-socket.ts";

test("byte counters are exact: a public pair moves known amounts each way", async () => {
  await using d = await startTestDaemon();
  const m = (await d.post("/api/v2/mapping/add", { mapping: JSON.stringify({ type: "public", maxconnections: 2, heartbeatabsencethreshold: 0 }) })).body;
  using agent = await rawConnect(m.port1);
  agent.socket.write(m.passcode1);
  expect((await agent.waitFor(10)).toString()).toBe("AUTHORIZED");
  using client = await rawConnect(m.port2);
  const up = Buffer.alloc(300_001, 7);
  const down = Buffer.alloc(123_457, 9);
  let offset = 0;
  while (offset < up.length) {
    offset += Math.max(0, client.socket.write(up.subarray(offset)));
    await Bun.sleep(1);
  }
  await agent.waitFor(10 + up.length);
  offset = 0;
  while (offset < down.length) {
    offset += Math.max(0, agent.socket.write(down.subarray(offset)));
    await Bun.sleep(1);
  }
  await client.waitFor(down.length);

  const key = (port: number, direction: "received" | "sent") => `iofog_connector_${direction}_bytes_total{port="${port}"}`;
  const samples = await scrapeWhen(`${d.url}/metrics`, (s) => s.get(key(m.port2, "sent")) === down.length);
  const at = (port: number, direction: "received" | "sent") => samples.get(key(port, direction));
  expect(at(m.port2, "received")).toBe(up.length);
  expect(at(m.port1, "sent")).toBe(up.length);
  expect(at(m.port1, "received")).toBe(down.length);
  expect(at(m.port2, "sent")).toBe(down.length);
  expect(samples.get(`iofog_connector_agents{port="${m.port1}"}`)).toBe(1);
  expect(samples.get(`iofog_connector_clients_bound{port="${m.port2}"}`)).toBe(1);
});
