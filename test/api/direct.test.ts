import { describe, expect, test } from "bun:test";
import { loadState } from "../../src/store/journal.ts";
import { json, startTestDaemon } from "../support/daemon.ts";

describe("direct connections", () => {
  test("direct/add: id, passkey and the broker port; stored with port1 0 and no ports taken", async () => {
    await using d = await startTestDaemon();
    const free = d.daemon.service.availablePorts;
    const { status, body } = await d.post("/api/v2/direct/add", {});
    expect(status).toBe(200);
    expect(Object.keys(body)).toEqual(["status", "id", "passkey", "port", "timestamp"]);
    expect(body.port).toBe(12345);
    expect(d.daemon.service.availablePorts).toBe(free);
    const json = loadState(d.settings.stateFile);
    expect(json).toEqual([{ kind: "direct", direct: { id: body.id, passkey: body.passkey, unusedSince: expect.any(Number) } }]);
  });

  test("the rendezvous: wait, then each side gets the other's details", async () => {
    await using d = await startTestDaemon();
    const { id, passkey } = (await d.post("/api/v2/direct/add", {})).body;
    const a = { id, passkey, ip: "10.0.0.1", port: "5000", certificate: "CERT-A" };
    const b = { id, passkey, ip: "10.0.0.2", port: "6000", certificate: "CERT-B" };
    expect((await d.post("/api/v2/direct", a)).body).toMatchObject({ status: "wait", id });
    expect((await d.post("/api/v2/direct", a)).body.status).toBe("wait");
    const second = (await d.post("/api/v2/direct", b)).body;
    expect(second).toMatchObject({ status: "ok", id, ip: "10.0.0.1", remoteip: "127.0.0.1", port: 5000, certificate: "CERT-A" });
    expect(Object.keys(second)).toEqual(["status", "id", "ip", "remoteip", "port", "certificate", "timestamp"]);
    expect((await d.post("/api/v2/direct", a)).body).toMatchObject({ status: "ok", ip: "10.0.0.2", certificate: "CERT-B" });
    const third = await d.post("/api/v2/direct", { ...b, ip: "10.0.0.3" });
    expect(third.status).toBe(409);
  });

  test("malformed sides are 400 with a sentence and never become a side; real agents then meet as usual", async () => {
    await using d = await startTestDaemon();
    const { id, passkey } = (await d.post("/api/v2/direct/add", {})).body;
    const good = { id, passkey, ip: "10.0.0.1", port: 5000, certificate: "CERT-A" };
    const bad: [Record<string, unknown>, string][] = [
      [{ ...good, ip: { a: 1 } }, 'ip must be an address as text (got {"a":1}).'],
      [{ ...good, ip: undefined }, "ip is missing; it must be an address as text."],
      [{ ...good, port: [5000] }, "port must be a port number from 1 to 65535 (got [5000])."],
      [{ ...good, port: undefined }, "port is missing; it must be a port number from 1 to 65535."],
      [{ ...good, port: 0 }, "port must be a port number from 1 to 65535 (got 0)."],
      [{ ...good, port: 65536 }, "port must be a port number from 1 to 65535 (got 65536)."],
      [{ ...good, port: 50.5 }, "port must be a port number from 1 to 65535 (got 50.5)."],
      [{ ...good, port: "5000x" }, 'port must be a port number from 1 to 65535 (got "5000x").'],
      [{ ...good, certificate: null }, "certificate must be text, which may be empty (got null)."],
      [{ ...good, certificate: 7 }, "certificate must be text, which may be empty (got 7)."],
    ];
    for (const [fields, message] of bad) {
      const { status, body } = await d.post("/api/v2/direct", fields, { json: true });
      expect({ fields, status, message: body.errormessage }).toEqual({ fields, status: 400, message });
    }
    const form = { id, passkey, ip: "10.0.0.1", port: "0", certificate: "" };
    expect((await d.post("/api/v2/direct", form)).status).toBe(400);
    // Nothing above became a side: the first real agent waits, the second gets the first's details.
    expect((await d.post("/api/v2/direct", { ...form, port: "5000", certificate: "CERT-A" })).body.status).toBe("wait");
    const second = await d.post("/api/v2/direct", { id, passkey, ip: "10.0.0.2", port: 6000, certificate: "" }, { json: true });
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ status: "ok", ip: "10.0.0.1", port: 5000, certificate: "CERT-A" });
    expect(second.text).toContain('"port":5000,');
    const first = await d.post("/api/v2/direct", { ...form, port: "5000", certificate: "CERT-A" });
    expect(first.body).toMatchObject({ status: "ok", ip: "10.0.0.2", port: 6000, certificate: "" });
  });

  test("X-Forwarded-For is reported as the remote address", async () => {
    await using d = await startTestDaemon();
    const { id, passkey } = (await d.post("/api/v2/direct/add", {})).body;
    const call = (ip: string, forwarded?: string) =>
      fetch(`${d.url}/api/v2/direct`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", ...(forwarded ? { "x-forwarded-for": forwarded } : {}) },
        body: new URLSearchParams({ id, passkey, ip, port: "1", certificate: "" }).toString(),
      }).then(json);
    await call("10.0.0.1", "203.0.113.9, 10.1.1.1");
    expect((await call("10.0.0.2")).remoteip).toBe("203.0.113.9");
  });

  test("unknown id or wrong passkey: 404; missing fields: 400", async () => {
    await using d = await startTestDaemon();
    const { id } = (await d.post("/api/v2/direct/add", {})).body;
    expect((await d.post("/api/v2/direct", { id, passkey: "wrong", ip: "1", port: "1", certificate: "" })).status).toBe(404);
    expect((await d.post("/api/v2/direct", { id: "nope", passkey: "x" })).status).toBe(404);
    expect((await d.post("/api/v2/direct", { id })).status).toBe(400);
  });

  test("direct/remove forgets the record; removing it again is 404", async () => {
    await using d = await startTestDaemon();
    const { id } = (await d.post("/api/v2/direct/add", {})).body;
    expect((await d.post("/api/v2/direct/remove", { mappingid: id })).body).toMatchObject({ status: "ok", id });
    expect(loadState(d.settings.stateFile)).toEqual([]);
    expect((await d.post("/api/v2/direct/remove", { mappingid: id })).status).toBe(404);
    expect((await d.post("/api/v2/direct/remove", {})).status).toBe(400);
  });
});
