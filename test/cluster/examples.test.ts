// The example cluster settings load, and the pair differs in the member name only.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { loadSettings } from "../../src/config/load.ts";

const dir = join(import.meta.dir, "../../examples/cluster");

test("examples/cluster: both members load, with the same etcd, prefix, ports and TLS files and their own names", () => {
  const a = loadSettings(join(dir, "connector-a.conf"));
  const b = loadSettings(join(dir, "connector-b.conf"));
  expect(a.cluster?.member).toBe("connector-a");
  expect(b.cluster?.member).toBe("connector-b");
  expect({ ...a, file: "", cluster: { ...a.cluster, member: "" } }).toEqual({ ...b, file: "", cluster: { ...b.cluster!, member: "" } });
  expect(a.cluster?.caFile).toBe(join(dir, "etcd-ca.pem"));
});
