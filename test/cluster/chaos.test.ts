// kill -9 and restart of either member, and of one etcd member, during adds and removes through both members:
// afterwards both members hold every acknowledged mapping, once, and no port belongs to two mappings.
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { randomPortRange } from "../support/daemon.ts";
import { haveEtcd, startEtcdCluster } from "../support/etcd.ts";
import { ensureExecutable, freePort } from "../support/executable.ts";
import { createFloatingNet } from "../support/floating.ts";
import { canCreateHosts } from "../support/netns.ts";
import { tempDir } from "../support/temp-dir.ts";
import { waitFor } from "../support/cluster.ts";

const ROUNDS = 20;
const PUBLIC = JSON.stringify({ type: "public", maxconnections: 2, heartbeatabsencethreshold: 0 });

interface Listed {
  id: string;
  port1: number;
  port2: number;
}

describe.skipIf(!haveEtcd || !canCreateHosts)("chaos", () => {
  test(`${ROUNDS} rounds of kill -9 and restart of a member (every 4th also of an etcd member) during adds and removes through both`, async () => {
    const exe = ensureExecutable();
    using net = createFloatingNet(2);
    await using etcd = await startEtcdCluster(3, net.hostAddress);
    using dir = tempDir();
    const apiPort = freePort();
    const range = randomPortRange(120);
    const children: (Subprocess | undefined)[] = [];
    const hosts = net.machines.map((m) => `http://${m.address}:${apiPort}`);

    const post = async (member: number, path: string, fields: Record<string, string>) => {
      const response = await fetch(`${hosts[member]}${path}`, { method: "POST", body: new URLSearchParams(fields).toString(), headers: { "content-type": "application/x-www-form-urlencoded" }, signal: AbortSignal.timeout(5000) });
      return { status: response.status, body: (await response.json()) as any };
    };
    const up = (member: number) => post(member, "/api/v2/status", { mappingid: "all" }).then((r) => r.status === 200, () => false);
    const start = async (member: number) => {
      const home = join(dir.path, `m${member}`);
      mkdirSync(home, { recursive: true });
      writeFileSync(join(home, "iofog-connector.conf"), JSON.stringify({
        ports: [`${range.from}-${range.to}`], broker: 12345, address: net.machines[member]!.address, apiPort, logDir: "log", dev: true,
        cluster: { etcd: etcd.endpoints, prefix: "/iofog-connector/chaos/", member: `m${member}` },
      }));
      children[member] = Bun.spawn(net.on(member, [exe, "start", "--config", join(home, "iofog-connector.conf")]), { stdout: "ignore", stderr: "ignore", stdin: "ignore" });
      await waitFor(() => up(member), 15_000, `member ${member} answers`);
    };
    const kill = async (member: number) => {
      children[member]?.kill("SIGKILL");
      await children[member]?.exited;
      children[member] = undefined;
    };

    // What the Controller was told: acknowledged adds, and removes acknowledged or left uncertain.
    const acknowledged = new Map<string, Listed>();
    const removed = new Set<string>();
    const uncertain = new Set<string>();
    const counts = { adds: 0, removes: 0, refused: 0 };
    const refusedBy = new Map<number, number>();
    const refuse = async (status: number) => {
      counts.refused++;
      refusedBy.set(status, (refusedBy.get(status) ?? 0) + 1);
      await Bun.sleep(10);
    };
    let running = true;
    const worker = async (seed: number) => {
      let turn = seed;
      while (running) {
        const member = turn++ % 2;
        const live = [...acknowledged.keys()].filter((id) => !removed.has(id) && !uncertain.has(id));
        // Keeps the pool about half full, so that adds and removes both go on.
        const removing = live.length > 30 || (live.length > 6 && turn % 3 === 0);
        const id = removing ? live[turn % live.length]! : "";
        if (removing) uncertain.add(id);
        try {
          if (removing) {
            const r = await post(member, "/api/v2/mapping/remove", { mappingid: id });
            if (r.status === 200) {
              removed.add(id);
              uncertain.delete(id);
              counts.removes++;
            } else if (r.body?.errormessage) {
              uncertain.delete(id); // refused before anything changed
              await refuse(r.status);
            }
          } else {
            const r = await post(member, "/api/v2/mapping/add", { mapping: PUBLIC });
            if (r.status === 200) {
              acknowledged.set(r.body.id, { id: r.body.id, port1: r.body.port1, port2: r.body.port2 });
              counts.adds++;
            } else await refuse(r.status);
          }
        } catch (error) {
          // A member that is down refused the connection: nothing happened. Killed mid-request: the outcome is unknown.
          if ((error as { code?: string }).code === "ECONNREFUSED") uncertain.delete(id);
          await Bun.sleep(20);
        }
      }
    };

    try {
      await start(0);
      await start(1);
      const workers = [0, 1, 2, 3].map(worker);
      for (let round = 0; round < ROUNDS; round++) {
        const victim = round % 2;
        await Bun.sleep(150 + ((round * 37) % 200));
        await kill(victim);
        if (round % 4 === 3) await etcd.kill(2);
        await Bun.sleep(100 + ((round * 53) % 200));
        await start(victim);
        if (round % 4 === 3) await etcd.restart(2);
      }
      running = false;
      await Promise.all(workers);

      const list = async (member: number) => ((await post(member, "/api/v2/mapping/list", {})).body.mappings as Listed[]).map(({ id, port1, port2 }) => ({ id, port1, port2 }));
      const sorted = (rows: Listed[]) => rows.sort((x, y) => x.id.localeCompare(y.id));
      await waitFor(async () => JSON.stringify(sorted(await list(0))) === JSON.stringify(sorted(await list(1))), 10_000, "both members hold the same mappings");
      const rows = sorted(await list(0));
      const byId = new Map(rows.map((row) => [row.id, row]));
      expect(byId.size).toBe(rows.length); // none twice
      const ports = rows.flatMap((row) => [row.port1, row.port2]);
      expect(new Set(ports).size).toBe(ports.length); // no port held by two mappings
      const lost = [...acknowledged.values()].filter((m) => !removed.has(m.id) && !uncertain.has(m.id) && byId.get(m.id)?.port1 !== m.port1);
      expect(lost).toEqual([]);
      const revived = [...removed].filter((id) => byId.has(id));
      expect(revived).toEqual([]);
      console.log(`chaos: ${ROUNDS} rounds (${ROUNDS / 4} with an etcd member killed too): ${counts.adds} adds and ${counts.removes} removes acknowledged, ${counts.refused} refused (${[...refusedBy].map(([status, n]) => `${n} × ${status}`).join(", ")}), ${uncertain.size} removes cut off; ${rows.length} mappings on both members (${rows.filter((row) => !acknowledged.has(row.id)).length} of them added by a request cut off by a kill), none lost, none twice, no port shared`);
      expect(counts.adds).toBeGreaterThan(ROUNDS);
    } finally {
      running = false;
      for (const member of [0, 1]) await kill(member);
    }
  }, 120_000);
});
