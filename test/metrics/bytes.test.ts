import { expect, test } from "bun:test";
import { startTestDaemon } from "../support/daemon.ts";
import { parseExposition } from "../support/exposition.ts";
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

  const samples = parseExposition(await fetch(`${d.url}/metrics`).then((r) => r.text()));
  const at = (port: number, direction: string) => samples.get(`iofog_connector_bytes_total{mapping="${m.id}",kind="public",port="${port}",direction="${direction}"}`);
  expect(at(m.port2, "in")).toBe(up.length);
  expect(at(m.port1, "out")).toBe(up.length);
  expect(at(m.port1, "in")).toBe(down.length);
  expect(at(m.port2, "out")).toBe(down.length);
  expect(samples.get(`iofog_connector_agent_connections{mapping="${m.id}",kind="public",port="${m.port1}",state="authorized"}`)).toBe(1);
  expect(samples.get(`iofog_connector_public_connections{mapping="${m.id}",kind="public",port="${m.port2}",state="bound"}`)).toBe(1);
});
