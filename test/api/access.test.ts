import { describe, expect, test } from "bun:test";
import { createAccessList, isLoopback, normalizeIp } from "../../src/api/access.ts";
import { parseCidr } from "../../src/config/schema.ts";
import { startTestDaemon } from "../support/daemon.ts";
import { postFrom } from "../support/post-from.ts";

const PUBLIC = JSON.stringify({ type: "public", maxconnections: 60, heartbeatabsencethreshold: 200000 });

describe("address rules", () => {
  test("loopback is 127.0.0.0/8 and ::1, also IPv4-mapped", () => {
    for (const ip of ["127.0.0.1", "127.9.8.7", "::1", "::ffff:127.0.0.1"]) expect(isLoopback(ip)).toBe(true);
    for (const ip of ["10.0.0.1", "128.0.0.1", "::2", "::ffff:10.0.0.1", "fe80::1", ""]) expect(isLoopback(ip)).toBe(false);
    expect(normalizeIp("::FFFF:10.1.2.3")).toBe("10.1.2.3");
  });

  test("allowedControllers: CIDRs and single addresses of both families", () => {
    const list = createAccessList(["10.0.0.0/8", "192.168.1.7", "fd00::/8"].map((c) => parseCidr(c)!));
    expect(list.allows("10.200.3.4")).toBe(true);
    expect(list.allows("::ffff:10.1.1.1")).toBe(true);
    expect(list.allows("192.168.1.7")).toBe(true);
    expect(list.allows("192.168.1.8")).toBe(false);
    expect(list.allows("fd12::1")).toBe(true);
    expect(list.allows("fe80::1")).toBe(false);
    expect(createAccessList(undefined).allows("203.0.113.1")).toBe(true);
  });
});

describe("access over the wire", () => {
  test("allowedControllers: other callers get 403 and change nothing; allowed ones are served", async () => {
    await using d = await startTestDaemon({ allowedControllers: [parseCidr("127.0.0.2")!] });
    const refused = await postFrom("127.0.0.1", `${d.url}/api/v2/mapping/add`, { mapping: PUBLIC });
    expect(refused.status).toBe(403);
    expect(refused.body.errormessage).toContain("not allowed");
    expect(d.daemon.service.count).toBe(0);
    for (const path of ["/api/v2/mapping/remove", "/api/v2/mapping/list", "/api/v2/direct/add", "/api/v2/direct", "/api/v2/direct/remove", "/api/v2/status"]) {
      expect((await postFrom("127.0.0.1", `${d.url}${path}`, { mappingid: "all" })).status).toBe(403);
    }
    const allowed = await postFrom("127.0.0.2", `${d.url}/api/v2/mapping/add`, { mapping: PUBLIC });
    expect(allowed.status).toBe(200);
    expect(d.daemon.service.count).toBe(1);
  });

  test("commandline from loopback: status, version, help, and anything else is help", async () => {
    await using d = await startTestDaemon();
    const status = (await d.post("/api/v2/commandline", { command: "status", params: "" })).body;
    expect(Object.keys(status)).toEqual(["response", "timestamp"]);
    expect(status.response).toContain("Connector 2.0.0 is running");
    const json = JSON.parse((await d.post("/api/v2/commandline", { command: "status", params: "json" })).body.response);
    expect(json).toMatchObject({ status: "running", mappings: 0 });
    expect((await d.post("/api/v2/commandline", { command: "version" })).body.response).toContain("Eclipse Public License");
    const help = (await d.post("/api/v2/commandline", { command: "help" })).body.response;
    expect(help).toContain("Usage: iofog-connector");
    expect((await d.post("/api/v2/commandline", { command: "dance" })).body.response).toBe(help);
  });

  test("commandline stop: a confirmation, then the daemon shuts down", async () => {
    await using d = await startTestDaemon();
    const { body } = await d.post("/api/v2/commandline", { command: "stop" });
    expect(body.response).toContain("stopping");
    const stopped = await Promise.race([d.daemon.stopped.then(() => true), Bun.sleep(10_000).then(() => false)]);
    expect(stopped).toBe(true);
  });
});
