// The daemon hosts the relay on relay threads by default, or on its control thread with relayThreads 0: both relay alike.
import { expect, test } from "bun:test";
import { availableParallelism } from "node:os";
import { startTestDaemon } from "../support/daemon.ts";
import { scrapeWhen } from "../support/exposition.ts";
import { publicPingPong } from "../support/raw-socket.ts";

const PUBLIC = JSON.stringify({ type: "public", maxconnections: 2, heartbeatabsencethreshold: 0 });

for (const relayThreads of [undefined, 0, 3]) {
  test(`relayThreads ${relayThreads ?? "unset (one per core)"}: three public mappings relay, and /metrics counts their bytes`, async () => {
    await using d = await startTestDaemon({ relayThreads });
    const threads = relayThreads ?? availableParallelism();
    expect(d.lines.some((line) => line.includes(threads === 0 ? "relayed on the control thread" : `relayed on ${threads} relay thread`))).toBe(true);
    const mappings: { port1: number; port2: number; passcode1: string }[] = [];
    for (let i = 0; i < 3; i++) mappings.push((await d.post("/api/v2/mapping/add", { mapping: PUBLIC })).body);
    for (const m of mappings) await publicPingPong(m);
    const received = (port: number) => `iofog_connector_received_bytes_total{port="${port}"}`;
    const samples = await scrapeWhen(`${d.url}/metrics`, (s) => mappings.every((m) => s.get(received(m.port2)) === 4));
    for (const m of mappings) expect(samples.get(received(m.port2))).toBe(4);
    expect(samples.get("iofog_connector_relay_threads")).toBe(threads);
  });
}

test("a relay thread that dies under the daemon: /metrics counts the restart, the log says which, and its mappings relay again", async () => {
  await using d = await startTestDaemon({ relayThreads: 2 });
  const mappings: { id: string; port1: number; port2: number; passcode1: string }[] = [];
  for (let i = 0; i < 2; i++) mappings.push((await d.post("/api/v2/mapping/add", { mapping: PUBLIC })).body);
  const threaded = d.daemon.relay.threaded!;
  const victim = threaded.threadOf(mappings[0]!.id)!;
  const worker = threaded.threads[victim]!.worker;
  const closed = Promise.withResolvers<void>();
  worker.addEventListener("close", () => closed.resolve());
  worker.terminate(); // not asked for by the daemon: a crash
  await closed.promise;
  expect(d.lines.some((line) => line.includes("[ERROR]") && line.includes(`Relay thread ${victim} stopped unexpectedly`) && line.includes("it carried 1 mappings"))).toBe(true);
  const active = (s: Map<string, number>, port: number, id: string) => s.get(`iofog_connector_port_active{port="${port}",mapping="${id}"}`) === 1;
  // The new thread boots and reopens the mapping as at restore; /metrics shows its ports listening again.
  const samples = await scrapeWhen(`${d.url}/metrics`, (s) => mappings.every((m) => active(s, m.port1, m.id) && active(s, m.port2, m.id)));
  expect(samples.get("iofog_connector_relay_thread_restarts_total")).toBe(1);
  for (const m of mappings) expect(active(samples, m.port1, m.id) && active(samples, m.port2, m.id)).toBe(true);
  for (const m of mappings) await publicPingPong(m);
});
