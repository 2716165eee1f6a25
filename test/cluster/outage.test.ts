// etcd away or without quorum: changes answer 503, open mappings keep relaying, and members catch up when it is back.
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { randomPortRange } from "../support/daemon.ts";
import { freshPrefix, PUBLIC, relaysPublic, startMember, waitFor } from "../support/cluster.ts";
import { haveEtcd, startEtcdCluster } from "../support/etcd.ts";
import { freePort } from "../support/executable.ts";
import { tempDir } from "../support/temp-dir.ts";

const UNREACHABLE = /^The cluster store \(etcd\) cannot be reached or has no quorum/;

describe.skipIf(!haveEtcd)("etcd outages", () => {
  test("without quorum, mapping and direct changes answer 503 with a sentence; mappings keep relaying; on return nothing is lost or doubled", async () => {
    await using etcd = await startEtcdCluster();
    const prefix = freshPrefix("quorum");
    const ports = [randomPortRange(20)];
    await using a = await startMember({ endpoints: etcd.endpoints, prefix, member: "a", host: "127.0.0.2", ports });
    await using b = await startMember({ endpoints: etcd.endpoints, prefix, member: "b", host: "127.0.0.3", ports });
    const kept = (await a.post("/api/v2/mapping/add", { mapping: PUBLIC })).body;
    const direct = (await a.post("/api/v2/direct/add", {})).body;
    await waitFor(() => b.daemon.service.count === 1 && b.daemon.service.getDirect(direct.id) !== undefined, 1000, "B has both records");

    await etcd.kill(1);
    await etcd.kill(2);
    for (const d of [a, b]) {
      await waitFor(async () => JSON.parse((await d.post("/api/v2/commandline", { command: "status", params: "json" })).body.response).cluster.etcdReachable === false, 15_000, "the member notices");
    }
    const refusals = [
      await a.post("/api/v2/mapping/add", { mapping: PUBLIC }),
      await b.post("/api/v2/mapping/remove", { mappingid: kept.id }),
      await a.post("/api/v2/direct/add", {}),
      await b.post("/api/v2/direct/remove", { mappingid: direct.id }),
      await a.post("/api/v2/direct", { id: direct.id, passkey: direct.passkey, port: "5000", ip: "10.0.0.1", certificate: "c" }),
    ];
    for (const refused of refusals) {
      expect(refused.status).toBe(503);
      expect(refused.body.errormessage).toMatch(UNREACHABLE);
    }
    expect(await relaysPublic("127.0.0.2", kept)).toBe(true);
    expect(await relaysPublic("127.0.0.3", kept)).toBe(true);
    expect(a.daemon.service.count).toBe(1);
    expect((await a.post("/api/v2/commandline", { command: "status" })).body.response).toContain("etcd NOT reachable");

    await etcd.restart(1);
    await etcd.restart(2);
    await waitFor(async () => (await b.post("/api/v2/mapping/add", { mapping: PUBLIC })).status === 200, 15_000, "B adds again");
    await waitFor(() => a.daemon.service.count === 2, 15_000, "A has the new mapping");
    const ids = (d: typeof a) => d.daemon.service.list().map((m) => m.id).sort();
    expect(ids(a)).toEqual(ids(b));
    expect(ids(a)).toContain(kept.id);
    expect(b.daemon.service.getDirect(direct.id)).toBeDefined();
  }, 60_000);

  test("a member cut off from etcd catches up with a full read when it is back", async () => {
    await using etcd = await startEtcdCluster();
    const prefix = freshPrefix("catch-up");
    const ports = [randomPortRange(20)];
    // A reaches etcd through member 0 only; B through every member.
    await using a = await startMember({ endpoints: [etcd.endpoints[0]!], prefix, member: "a", host: "127.0.0.2", ports });
    await using b = await startMember({ endpoints: etcd.endpoints, prefix, member: "b", host: "127.0.0.3", ports });
    const gone = (await b.post("/api/v2/mapping/add", { mapping: PUBLIC })).body;
    await waitFor(() => a.daemon.service.count === 1, 1000, "A has the first mapping");

    await etcd.kill(0);
    await waitFor(async () => (await a.post("/api/v2/mapping/add", { mapping: PUBLIC })).status === 503, 15_000, "A refuses changes");
    const fresh = await waitFor(async () => (await b.post("/api/v2/mapping/remove", { mappingid: gone.id })).status === 200, 15_000, "B removes through the other etcd members").then(
      async () => (await b.post("/api/v2/mapping/add", { mapping: PUBLIC })).body,
    );
    expect(fresh.status).toBe("ok");
    expect(a.daemon.service.get(gone.id)).toBeDefined(); // A still serves what it last knew

    await etcd.restart(0);
    // The record is taken on at once and its listeners open a moment later, on a relay thread: caught up is both.
    const listening = (id: string) => a.daemon.service.state(id)?.port1.active === true && a.daemon.service.state(id)?.port2.active === true;
    await waitFor(() => a.daemon.service.get(gone.id) === undefined && listening(fresh.id), 15_000, "A catches up");
    expect(a.daemon.service.count).toBe(1);
    expect(await relaysPublic("127.0.0.2", fresh)).toBe(true);
    expect(await relaysPublic("127.0.0.2", gone)).toBe(false);
  }, 60_000);

  test("the first member on an empty prefix imports its configs.json, ports and passcodes kept; the second serves them", async () => {
    await using etcd = await startEtcdCluster();
    using dir = tempDir();
    const ports = randomPortRange(20);
    const record = { id: randomUUID(), port1: ports.from + 4, port2: ports.from + 5, maxconnectionsport1: 60, maxconnectionsport2: 0, passcodeport1: randomUUID(), passcodeport2: "", heartbeatabsencethresholdport1: 0, heartbeatabsencethresholdport2: 0 };
    const passkey = randomUUID();
    writeFileSync(dir.file("configs.json"), JSON.stringify({ mappings: [record, { id: "direct-1", port1: 0, passcodeport1: passkey }] }));
    const prefix = freshPrefix("import");
    await using a = await startMember({ endpoints: etcd.endpoints, prefix, member: "a", host: "127.0.0.2", ports: [ports], dir: dir.path });
    await using b = await startMember({ endpoints: etcd.endpoints, prefix, member: "b", host: "127.0.0.3", ports: [ports] });
    expect(b.daemon.service.get(record.id)).toMatchObject({ port1: record.port1, port2: record.port2, passcode1: record.passcodeport1 });
    expect(b.daemon.service.getDirect("direct-1")?.passkey).toBe(passkey);
    expect(a.lines.some((line) => line.includes("was empty; imported the 2 records"))).toBe(true);
    expect(await relaysPublic("127.0.0.3", { ...record, passcode1: record.passcodeport1 })).toBe(true);
    const added = (await b.post("/api/v2/mapping/add", { mapping: PUBLIC })).body;
    expect([added.port1, added.port2]).not.toContain(record.port1);
    expect([added.port1, added.port2]).not.toContain(record.port2);
  }, 60_000);

  test("a member starts while etcd is unreachable and serves the mappings of its snapshot", async () => {
    using dir = tempDir();
    const ports = randomPortRange(20);
    const record = { id: randomUUID(), port1: ports.from, port2: ports.from + 1, maxconnectionsport1: 60, maxconnectionsport2: 0, passcodeport1: randomUUID(), passcodeport2: "", heartbeatabsencethresholdport1: 0, heartbeatabsencethresholdport2: 0 };
    writeFileSync(dir.file("configs.json"), JSON.stringify({ mappings: [record] }));
    await using a = await startMember({ endpoints: [`http://127.0.0.1:${freePort()}`], prefix: freshPrefix("alone"), member: "a", host: "127.0.0.2", ports: [ports], dir: dir.path });
    expect(a.daemon.service.count).toBe(1);
    expect(await relaysPublic("127.0.0.2", { ...record, passcode1: record.passcodeport1 })).toBe(true);
    const refused = await a.post("/api/v2/mapping/add", { mapping: PUBLIC });
    expect(refused.status).toBe(503);
    expect(refused.body.errormessage).toMatch(UNREACHABLE);
    expect(a.lines.some((line) => line.includes("cannot be reached; serving the 1 mappings of"))).toBe(true);
  }, 30_000);
});
