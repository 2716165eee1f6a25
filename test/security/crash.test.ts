import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { loadState } from "../../src/store/journal.ts";
import { instance } from "../support/executable.ts";
import { authorize } from "../support/wire.ts";
import { seededRandom } from "../support/random.ts";

const LONG = process.env.IOFOG_LONG_TESTS === "1";
const ROUNDS = LONG ? 200 : 50;
const OPERATIONS = 1000;
const CLIENTS = 4;
const PUBLIC = JSON.stringify({ type: "public", maxconnections: 4, heartbeatabsencethreshold: 0 });
const PRIVATE = JSON.stringify({ type: "private", maxconnectionsport1: 1, maxconnectionsport2: 1, heartbeatabsencethresholdport1: 0, heartbeatabsencethresholdport2: 0 });

interface Acked {
  id: string;
  port1: number;
  port2: number;
  passcode1: string;
  passcode2: string;
}

/**
 * Kills the daemon with SIGKILL at a random moment of concurrent adds and removes, `ROUNDS` times, and
 * checks after each that every acknowledged add is stored and no acknowledged remove came back.
 */
async function crashRounds(label: string, env: Record<string, string> = {}): Promise<void> {
  const r = seededRandom();
  await using i = instance({ ports: ["20000-29999"] }, { env });
  const live = new Map<string, Acked>(); // acknowledged and not removed
  const removed = new Set<string>(); // acknowledged removes
  const inFlight = new Set<string>(); // removes sent without an answer: either outcome is right
  let unansweredAdds = 0;
  let acknowledged = 0;
  let checkedAgents = 0;

  for (let round = 0; round < ROUNDS; round++) {
    const child = await i.start();
    let done = 0;
    let stop = false;
    const client = async () => {
      while (!stop && done < OPERATIONS) {
        done++;
        const ids = [...live.keys()];
        if (ids.length > 0 && r.next() < 0.4) {
          const id = r.pick(ids);
          if (inFlight.has(id)) continue;
          inFlight.add(id);
          const answer = await i.post("/api/v2/mapping/remove", { mappingid: id }).catch(() => undefined);
          if (answer?.status === "ok") {
            live.delete(id);
            removed.add(id);
            inFlight.delete(id);
            acknowledged++;
          } else if (answer !== undefined) inFlight.delete(id);
        } else {
          const answer = await i.post("/api/v2/mapping/add", { mapping: r.next() < 0.5 ? PUBLIC : PRIVATE }).catch(() => undefined);
          if (answer?.status === "ok") {
            live.set(answer.id, answer);
            acknowledged++;
          } else if (answer === undefined) unansweredAdds++;
        }
      }
    };
    const clients = Array.from({ length: CLIENTS }, client);
    await Bun.sleep(5 + r.int(400));
    child.kill("SIGKILL");
    await child.exited;
    stop = true;
    await Promise.all(clients);

    // configs.json is whole (or not written yet: every change still in the journal).
    if (existsSync(join(i.dir, "configs.json"))) expect(() => JSON.parse(readFileSync(join(i.dir, "configs.json"), "utf8"))).not.toThrow();
    const stored = new Map(loadState(join(i.dir, "configs.json")).flatMap((e) => (e.kind === "mapping" ? [[e.mapping.id, e.mapping] as const] : [])));
    for (const [id, m] of live) {
      if (inFlight.has(id)) continue;
      expect(stored.get(id)).toMatchObject({ port1: m.port1, port2: m.port2, passcode1: m.passcode1, passcode2: m.passcode2 });
    }
    for (const id of removed) if (!inFlight.has(id)) expect(stored.has(id)).toBe(false);
    // A remove that was cut off may or may not have happened; adopt what the file says.
    for (const id of inFlight) {
      if (!stored.has(id)) live.delete(id);
      inFlight.delete(id);
    }
    // Adds that were cut off before their answer may be in the file; the Connector keeps them.
    for (const [id, m] of stored) {
      if (!live.has(id)) live.set(id, { id, port1: m.port1, port2: m.port2, passcode1: m.passcode1, passcode2: m.passcode2 });
    }
  }

  // The last restart: every mapping reopens on its ports and lets its agents in with its passcodes.
  await i.start();
  const list = (await i.post("/api/v2/mapping/list", {})).mappings as { id: string; port1: number; port2: number }[];
  expect(list.map((m) => m.id).sort()).toEqual([...live.keys()].sort());
  for (const m of [...live.values()].slice(0, 40)) {
    expect(await authorize(m.port1, m.passcode1)).toBe(true);
    if (m.passcode2) expect(await authorize(m.port2, m.passcode2)).toBe(true);
    checkedAgents++;
  }
  console.log(
    `crash safety, ${label} (seed ${r.seed}): ${ROUNDS} kill -9 rounds, ${acknowledged} acknowledged adds and removes, ` +
      `${unansweredAdds} adds cut off, ${live.size} mappings at the end, all restored; agents of ${checkedAgents} mappings authorized again`,
  );
}

describe("crash safety", () => {
  test(`kill -9 during ${OPERATIONS} concurrent adds and removes (journal appends), ${ROUNDS} times: nothing acknowledged is lost`, async () => {
    await crashRounds("journal appends");
  }, 600_000);

  test(`kill -9 while the journal is compacted every few changes, ${ROUNDS} times: nothing acknowledged is lost`, async () => {
    // A journal past 2 KiB is folded into configs.json: a compaction every eight or so changes.
    await crashRounds("constant compactions", { IOFOG_CONNECTOR_JOURNAL_COMPACT_BYTES: "2048" });
  }, 600_000);
});
