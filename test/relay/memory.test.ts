// Memory, measured in an engine process of its own: a slow reader never grows it, and idle listeners and connections stay cheap.
import { expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { dialAgent, type AgentLink } from "../support/agent-client.ts";
import { connect, until, within } from "../support/endpoint.ts";
import { spawnRelay } from "../support/relay-child.ts";

const MiB = 1024 * 1024;

test("a public client that reads nothing while the agent side sends 256 MiB does not grow the engine's memory", async () => {
  await using engine = spawnRelay();
  const { mappings } = await engine.open(1, "public");
  const m = mappings[0]!;
  const link = await dialAgent({ port: m.port1, passcode: m.passcode1 });
  await using client = await connect({ port: m.port2 });
  client.socket.pause();
  client.socket.write("x");
  await until(() => link.payloadReads === 1, 5000, "client bound to the agent connection");
  const baseline = await engine.rss();

  // 256 MiB from one reused 1 MiB block, written as fast as the path takes it.
  const block = randomBytes(MiB);
  let sent = 0;
  const sending = (async () => {
    for (let i = 0; i < 256; i++) {
      await link.ep.write(block);
      sent += block.length;
    }
  })();
  // Wait until the sender is stuck: nothing more leaves it for 300 ms.
  let last = -1;
  let still = 0;
  while (still < 3) {
    await Bun.sleep(100);
    still = sent === last ? still + 1 : 0;
    last = sent;
  }
  const stalled = await engine.rss();
  const [state] = await engine.states();
  console.log(`backpressure: sender stuck after ${(sent / MiB).toFixed(1)} MiB, engine read ${(state!.port1.bytesIn / MiB).toFixed(1)} MiB, RSS growth ${((stalled - baseline) / MiB).toFixed(2)} MiB`);
  expect(sent).toBeLessThan(64 * MiB);
  expect(state!.port1.bytesIn - state!.port2.bytesOut).toBeLessThanOrEqual(MiB);
  expect(stalled - baseline).toBeLessThan(8 * MiB);

  // The client reads again: all of it arrives, and the engine's memory stays bounded meanwhile.
  let peak = stalled;
  client.socket.resume();
  const sampling = setInterval(() => void engine.rss().then((rss) => (peak = Math.max(peak, rss))), 100);
  try {
    await client.waitForBytes(256 * MiB, 30_000);
    await within(5000, "sender done", sending);
  } finally {
    clearInterval(sampling);
  }
  const expected = new Bun.CryptoHasher("sha256");
  for (let i = 0; i < 256; i++) expected.update(block);
  expect(client.received).toBe(256 * MiB);
  expect(client.digest()).toBe(expected.digest("hex"));
  console.log(`backpressure: peak RSS growth while relaying 256 MiB ${((peak - baseline) / MiB).toFixed(2)} MiB`);
  expect(peak - baseline).toBeLessThan(32 * MiB);
  link.ep.socket.terminate();
}, 60_000);

test("idle cost: 2,000 listeners and 4,000 idle agent connections", async () => {
  await using engine = spawnRelay();
  const { mappings, rssBefore, rssAfter } = await engine.open(1000, "public");
  const perListener = (rssAfter - rssBefore) / 2000;
  const before = await engine.rss();
  const links: AgentLink[] = [];
  for (let round = 0; round < 4; round++) {
    for (let at = 0; at < mappings.length; at += 200) {
      links.push(...(await Promise.all(mappings.slice(at, at + 200).map((m) => dialAgent({ port: m.port1, passcode: m.passcode1 })))));
    }
  }
  const perConnection = ((await engine.rss()) - before) / links.length;
  console.log(`idle cost: ${(perListener / 1024).toFixed(2)} KiB per listener, ${(perConnection / 1024).toFixed(2)} KiB per idle agent connection`);
  expect(perListener).toBeLessThan(2.5 * 1024);
  expect(perConnection).toBeLessThan(2.6 * 1024);
  const states = await engine.states();
  expect(states.reduce((sum, s) => sum + s.port1.authorized, 0)).toBe(4000);
  for (const link of links) link.ep.socket.terminate();
}, 60_000);
