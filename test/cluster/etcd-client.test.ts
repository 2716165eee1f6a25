// The JSON-gateway client against a real three-member etcd: transactions, prefix reads, the watch and leases.
import { describe, expect, test } from "bun:test";
import { createEtcdClient, prefixEnd } from "../../src/cluster/etcd-client.ts";
import { isConnectorError } from "../../src/errors.ts";
import { freePort } from "../support/executable.ts";
import { etcdForFile, haveEtcd } from "../support/etcd.ts";

const cluster = etcdForFile();

describe.skipIf(!haveEtcd)("etcd client", () => {
  test("prefixEnd is the first key past the prefix", () => {
    expect(prefixEnd("/a/")).toBe("/a0");
  });

  test("a transaction that creates a key fails when the key exists, and reads what holds it", async () => {
    const client = createEtcdClient({ endpoints: cluster().endpoints });
    const first = await client.txn([{ key: "/t/port/1", absent: true }], [{ put: "/t/port/1", value: "m1" }], [{ get: "/t/port/1" }]);
    expect(first.succeeded).toBe(true);
    const second = await client.txn([{ key: "/t/port/1", absent: true }], [{ put: "/t/port/1", value: "m2" }], [{ get: "/t/port/1" }]);
    expect(second).toMatchObject({ succeeded: false, got: ["m1"] });
    const read = await client.range("/t/");
    expect(read.kvs.map((kv) => [kv.key, kv.value])).toEqual([["/t/port/1", "m1"]]);
    expect(read.revision).toBeGreaterThanOrEqual(first.revision);
    expect((await client.txn([{ key: "/t/port/1", present: true }], [{ delete: "/t/port/1" }])).succeeded).toBe(true);
    expect((await client.range("/t/")).kvs).toEqual([]);
  });

  test("the watch delivers puts and deletes from a revision on, in order", async () => {
    const client = createEtcdClient({ endpoints: cluster().endpoints });
    const from = (await client.txn([], [{ put: "/w/a", value: "1" }])).revision;
    await client.txn([], [{ delete: "/w/a" }, { put: "/w/b", value: "2" }]);
    const controller = new AbortController();
    const seen: string[] = [];
    for await (const batch of client.watch("/w/", from, controller.signal)) {
      for (const event of batch.events) seen.push(`${event.type} ${event.key} ${event.value}`);
      if (seen.length >= 3) break;
    }
    controller.abort();
    expect(seen).toEqual(["put /w/a 1", "delete /w/a ", "put /w/b 2"]);
  });

  test("a lease keeps its key alive while refreshed and is gone once revoked", async () => {
    const client = createEtcdClient({ endpoints: cluster().endpoints });
    const lease = await client.grant(5);
    await client.txn([], [{ put: "/l/member", value: "a", lease }]);
    expect(await client.keepAlive(lease)).toBe(5);
    await client.revoke(lease);
    expect((await client.range("/l/")).kvs).toEqual([]);
  });

  test("an endpoint that does not answer is skipped; none answering is an 'unavailable' error that says so", async () => {
    const dead = `http://127.0.0.1:${freePort()}`;
    const client = createEtcdClient({ endpoints: [dead, ...cluster().endpoints] });
    expect((await client.range("/nothing/")).kvs).toEqual([]);
    expect(client.endpoint).toBe(cluster().endpoints[0]!);
    const error = await createEtcdClient({ endpoints: [dead], timeoutMs: 500 }).range("/x/").catch((e) => e);
    expect(isConnectorError(error, "unavailable")).toBe(true);
    expect(error.message).toMatch(/^The cluster store \(etcd\) cannot be reached or has no quorum \(.*\), so mappings cannot be changed now; open mappings keep relaying\.$/);
  });
});
