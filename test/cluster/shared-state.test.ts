// Two members on one etcd cluster: what one acknowledges, the other serves on the same ports with the same passcodes.
import { describe, expect, test } from "bun:test";
import { randomPortRange } from "../support/daemon.ts";
import { instance } from "../support/executable.ts";
import { holdPort } from "../support/hold-port.ts";
import { freshPrefix, PRIVATE, PUBLIC, relaysPublic, startMember, waitFor } from "../support/cluster.ts";
import { etcdForFile, haveEtcd } from "../support/etcd.ts";
import { parseExposition } from "../support/exposition.ts";
import { promtool } from "../metrics/promtool.ts";

const cluster = etcdForFile();

describe.skipIf(!haveEtcd)("shared state", () => {
  const pair = async (name: string, size = 40) => {
    const prefix = freshPrefix(name);
    const ports = [randomPortRange(size)];
    const a = await startMember({ endpoints: cluster().endpoints, prefix, member: "a", host: "127.0.0.2", ports });
    const b = await startMember({ endpoints: cluster().endpoints, prefix, member: "b", host: "127.0.0.3", ports });
    return { a, b, prefix, ports };
  };

  test("a mapping added through one member is served by the other within 1 s, same ports and passcodes; a remove closes it there too", async () => {
    const { a, b } = await pair("served");
    await using _a = a;
    await using _b = b;
    const added = (await a.post("/api/v2/mapping/add", { mapping: PUBLIC })).body;
    expect(added.status).toBe("ok");
    const took = await waitFor(() => b.daemon.service.get(added.id) !== undefined && b.daemon.service.state(added.id)?.port1.active === true, 1000, "B opens the mapping");
    expect(b.daemon.service.get(added.id)).toEqual(a.daemon.service.get(added.id)!);
    expect(await relaysPublic("127.0.0.3", added)).toBe(true);
    expect(await relaysPublic("127.0.0.2", added)).toBe(true);
    const privateOne = (await b.post("/api/v2/mapping/add", { mapping: PRIVATE })).body;
    await waitFor(() => a.daemon.service.get(privateOne.id)?.passcode2 === privateOne.passcode2, 1000, "A opens the private mapping");

    expect((await b.post("/api/v2/mapping/remove", { mappingid: added.id })).status).toBe(200);
    await waitFor(() => a.daemon.service.get(added.id) === undefined, 1000, "A closes the mapping");
    expect(await relaysPublic("127.0.0.2", added)).toBe(false);
    expect(a.daemon.service.availablePorts).toBe(b.daemon.service.availablePorts);
    console.log(`cluster: a mapping added through A was served by B after ${took.toFixed(0)} ms`);
  }, 30_000);

  test("adds at the same moment through both members never hand out one port twice", async () => {
    const { a, b } = await pair("race", 12);
    await using _a = a;
    await using _b = b;
    const calls = Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).post("/api/v2/mapping/add", { mapping: PUBLIC }));
    const answers = await Promise.all(calls);
    const ok = answers.filter((r) => r.status === 200).map((r) => r.body);
    for (const r of answers) if (r.status !== 200) expect([507, 503]).toContain(r.status);
    const ports = ok.flatMap((m) => [m.port1, m.port2]);
    expect(new Set(ports).size).toBe(ports.length);
    expect(ok.length).toBeGreaterThanOrEqual(5);
    // Both members start handing out ports from the bottom of the pool, so they collided in etcd and retried.
    expect([...a.lines, ...b.lines].some((line) => line.includes("was taken by another member of the cluster at the same moment. Trying other ports."))).toBe(true);
    await waitFor(() => a.daemon.service.count === ok.length && b.daemon.service.count === ok.length, 2000, "both members hold every acknowledged mapping");
    const ids = (d: typeof a) => d.daemon.service.list().map((m) => m.id).sort();
    expect(ids(a)).toEqual(ok.map((m) => m.id).sort());
    expect(ids(b)).toEqual(ids(a));
  }, 30_000);

  test("a port the other member cannot bind is reported Inactive there and retried until it frees", async () => {
    const prefix = freshPrefix("held");
    const ports = [randomPortRange(2)];
    await using held = await holdPort(ports[0]!.to, "127.0.0.3");
    await using a = await startMember({ endpoints: cluster().endpoints, prefix, member: "a", host: "127.0.0.2", ports });
    await using b = await startMember({ endpoints: cluster().endpoints, prefix, member: "b", host: "127.0.0.3", ports });
    const added = (await a.post("/api/v2/mapping/add", { mapping: PUBLIC })).body;
    expect([added.port1, added.port2].sort()).toEqual([ports[0]!.from, ports[0]!.to]);
    await waitFor(() => b.daemon.service.get(added.id) !== undefined, 1000, "B has the mapping");
    const heldSide = added.port2 === held.port ? "public" : "private";
    expect((await b.post("/api/v2/status", { mappingid: added.id })).body[heldSide]).toBe("Inactive");
    expect((await a.post("/api/v2/status", { mappingid: added.id })).body[heldSide]).toBe("Active");
    await held.release();
    await waitFor(async () => (await b.post("/api/v2/status", { mappingid: added.id })).body[heldSide] === "Active", 5000, "B binds the port once it is free");
  }, 30_000);

  test("direct records are shared: added through one member, called and removed through the other", async () => {
    const { a, b } = await pair("direct");
    await using _a = a;
    await using _b = b;
    const direct = (await a.post("/api/v2/direct/add", {})).body;
    await waitFor(() => b.daemon.service.getDirect(direct.id) !== undefined, 1000, "B knows the direct record");
    const call = await b.post("/api/v2/direct", { id: direct.id, passkey: direct.passkey, port: "5000", ip: "10.0.0.1", certificate: "c" });
    expect(call.body.status).toBe("wait");
    expect((await b.post("/api/v2/direct/remove", { mappingid: direct.id })).status).toBe(200);
    await waitFor(() => a.daemon.service.getDirect(direct.id) === undefined, 1000, "A forgets the direct record");
  }, 30_000);

  test("status and /metrics show the member's view: members alive, etcd reachable, revision; promtool finds nothing", async () => {
    const { a, b } = await pair("status");
    await using _a = a;
    await using _b = b;
    expect((await a.post("/api/v2/mapping/add", { mapping: PUBLIC })).status).toBe(200);
    await waitFor(() => b.daemon.service.count === 1, 5000, "B has the mapping");
    await waitFor(async () => JSON.parse((await a.post("/api/v2/commandline", { command: "status", params: "json" })).body.response).cluster.members.length === 2, 5000, "A sees both members");
    const report = JSON.parse((await a.post("/api/v2/commandline", { command: "status", params: "json" })).body.response);
    expect(report.cluster).toMatchObject({ member: "a", members: ["a", "b"], etcdReachable: true });
    expect(report.cluster.revision).toBeGreaterThan(0);
    const text = (await a.post("/api/v2/commandline", { command: "status" })).body.response;
    expect(text).toContain("Cluster: member a, 2 members alive (a, b), etcd reachable, revision");
    const all = (await b.post("/api/v2/status", { mappingid: "all" })).body;
    expect(all).toMatchObject({ status: "running", mappings: 1, cluster: { member: "b", etcdReachable: true } });
    const scraped = await (await fetch(`${a.url}/metrics`)).text();
    const series = parseExposition(scraped);
    expect(series.get("iofog_connector_cluster_members_alive")).toBe(2);
    expect(series.get("iofog_connector_cluster_etcd_reachable")).toBe(1);
    expect(series.get("iofog_connector_cluster_revision")).toBeGreaterThanOrEqual(report.cluster.revision);
    expect(series.get("iofog_connector_mappings")).toBe(1);
    expect(promtool(["check", "metrics"], scraped)).toEqual({ exit: 0, output: "" });
  }, 30_000);

  test("a member whose ports differ from the prefix's refuses to start, naming the field", async () => {
    const { a, b, prefix } = await pair("differ");
    await using _a = a;
    await using _b = b;
    const refused = startMember({ endpoints: cluster().endpoints, prefix, member: "c", host: "127.0.0.4", ports: [randomPortRange(41)] });
    await expect(refused).rejects.toThrow(/"ports" is \[.*\] but the cluster at .* has \[.*\]; every member needs the same "ports", "exclude" and "dev"\./);
    const dev = startMember({ endpoints: cluster().endpoints, prefix, member: "c", host: "127.0.0.4", ports: a.settings.ports, overrides: { exclude: [{ from: 1, to: 1 }] } });
    await expect(dev).rejects.toThrow(/"exclude" is \["1"\] but the cluster/);

    // The executable as systemd runs it: one line, exit 1, and nothing written under the prefix.
    await using exe = instance({ cluster: { etcd: cluster().endpoints, prefix, member: "c" } });
    const run = await exe.run("start");
    expect(run.code).toBe(1);
    const lines = (run.stdout + run.stderr).trim().split("\n").filter((line) => line.includes("every member needs the same"));
    expect(lines.length).toBe(1);
    expect(lines[0]).toContain('"ports" is');
    expect(a.daemon.service.count + b.daemon.service.count).toBe(0);
  }, 30_000);
});
