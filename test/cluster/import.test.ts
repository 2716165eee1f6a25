// The first member's import of its configs.json into an empty prefix, against a real three-member etcd.
import { describe, expect, test } from "bun:test";
import { randomUUID } from "node:crypto";
import { createEtcdClient, type EtcdClient } from "../../src/cluster/etcd-client.ts";
import { clusterKeys } from "../../src/cluster/keys.ts";
import { joinPrefix, sharedSettings } from "../../src/cluster/shared-settings.ts";
import type { Entry } from "../../src/store/schema.ts";
import { freshPrefix } from "../support/cluster.ts";
import { etcdForFile, haveEtcd } from "../support/etcd.ts";

const cluster = etcdForFile();
const mine = sharedSettings({ ports: [{ from: 20000, to: 29999 }], exclude: [], dev: true });

const mappings = (count: number): Entry[] =>
  Array.from({ length: count }, (_, n) => ({
    kind: "mapping",
    mapping: {
      id: randomUUID(), kind: "public", port1: 20000 + 2 * n, port2: 20001 + 2 * n, passcode1: randomUUID(), passcode2: "",
      maxConnections1: 60, maxConnections2: 0, heartbeatThreshold1: 0, heartbeatThreshold2: 0,
    },
  }));

/** The member's own client, as it is until the process dies after `lives` transactions: nothing it sends after reaches etcd. */
function dyingAfter(client: EtcdClient, lives: number): EtcdClient {
  let left = lives;
  return {
    ...client,
    txn(...args) {
      if (left-- <= 0) return Promise.reject(new Error("killed"));
      return client.txn(...args);
    },
  };
}

describe.skipIf(!haveEtcd)("importing configs.json into an empty prefix", () => {
  test("a member killed in the middle of its import imports everything at its next start; nothing of its configs.json is left out", async () => {
    const keys = clusterKeys(freshPrefix("import-cut"));
    const client = createEtcdClient({ endpoints: cluster().endpoints });
    const local = mappings(200); // five transactions of 40
    expect(await joinPrefix(dyingAfter(client, 2), keys, mine, "a.conf", local).catch((e: Error) => e.message)).toBe("killed");
    expect(await joinPrefix(client, keys, mine, "a.conf", local)).toBe(true);
    const held = (await client.range(`${keys.prefix}mappings/`)).kvs.map((kv) => kv.key).sort();
    expect(held).toEqual(local.map((entry) => keys.entry((entry as { mapping: { id: string } }).mapping.id)).sort());
    expect((await client.range(`${keys.prefix}ports/`)).kvs).toHaveLength(400);
    expect(await joinPrefix(client, keys, mine, "b.conf", [])).toBe(false); // the prefix is claimed: a second member only checks
  });
});
