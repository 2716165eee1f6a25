// etcd with client certificates: a member with caFile, certFile and keyFile joins; without its certificate etcd refuses it.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { createEtcdClient } from "../../src/cluster/etcd-client.ts";
import { isConnectorError } from "../../src/errors.ts";
import { freshPrefix, PUBLIC, startMember } from "../support/cluster.ts";
import { randomPortRange } from "../support/daemon.ts";
import { haveEtcd, startEtcdCluster } from "../support/etcd.ts";
import { makeTestCa } from "../support/tls.ts";

describe.skipIf(!haveEtcd)("etcd over TLS", () => {
  test("a member with the CA, its certificate and key commits mappings; a client without a certificate is refused", async () => {
    using ca = makeTestCa();
    await using etcd = await startEtcdCluster(3, "127.0.0.1", ca);
    expect(etcd.endpoints[0]).toStartWith("https://");
    await using a = await startMember({
      endpoints: etcd.endpoints, prefix: freshPrefix("tls"), member: "a", host: "127.0.0.2", ports: [randomPortRange(10)],
      tlsFiles: { caFile: ca.caFile, certFile: ca.client.certFile, keyFile: ca.client.keyFile },
    });
    const added = await a.post("/api/v2/mapping/add", { mapping: PUBLIC });
    expect(added.status).toBe(200);

    const missing = startMember({
      endpoints: etcd.endpoints, prefix: freshPrefix("tls"), member: "b", host: "127.0.0.3", ports: [randomPortRange(10)],
      tlsFiles: { caFile: `${ca.dir}/missing.pem`, certFile: ca.client.certFile, keyFile: ca.client.keyFile },
    });
    await expect(missing).rejects.toThrow(/: cluster\.caFile \S+missing\.pem does not exist\.$/);

    const anonymous = createEtcdClient({ endpoints: etcd.endpoints, tls: { ca: readFileSync(ca.caFile, "utf8") }, timeoutMs: 1000 });
    const refused = await anonymous.range("/").catch((error) => error);
    expect(isConnectorError(refused, "unavailable")).toBe(true);
  }, 60_000);
});
