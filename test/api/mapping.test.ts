import { describe, expect, test } from "bun:test";
import { storedRecords } from "../support/state.ts";
import { loadState } from "../../src/store/journal.ts";
import { canConnect, randomPortRange, startTestDaemon } from "../support/daemon.ts";
import { holdPort } from "../support/hold-port.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const PUBLIC = JSON.stringify({ type: "public", maxconnections: 60, heartbeatabsencethreshold: 200000 });
const PRIVATE = JSON.stringify({ type: "private", maxconnectionsport1: 1, maxconnectionsport2: 1, heartbeatabsencethresholdport1: 200000, heartbeatabsencethresholdport2: 200000 });

describe("mapping/add", () => {
  test("public: two ports, a passcode for port1 only, listeners accepting before the answer, durable", async () => {
    await using d = await startTestDaemon();
    const { status, body, text, type } = await d.post("/api/v2/mapping/add", { mapping: PUBLIC });
    expect(status).toBe(200);
    expect(type).toBe("application/json");
    expect(text).not.toContain(" ");
    expect(Object.keys(body)).toEqual(["status", "id", "port1", "port2", "passcode1", "passcode2", "timestamp"]);
    expect(body.status).toBe("ok");
    expect(body.id).toMatch(UUID);
    expect(body.passcode1).toMatch(UUID);
    expect(body.passcode2).toBe("");
    expect(body.port1).not.toBe(body.port2);
    expect(Math.abs(body.timestamp - Date.now())).toBeLessThan(60_000);
    expect(await canConnect(body.port1)).toBe(true);
    expect(await canConnect(body.port2)).toBe(true);
    const [entry] = loadState(d.settings.stateFile);
    expect(entry).toEqual({
      kind: "mapping",
      mapping: {
        id: body.id, kind: "public", port1: body.port1, port2: body.port2, passcode1: body.passcode1, passcode2: "",
        maxConnections1: 60, maxConnections2: 0, heartbeatThreshold1: 200000, heartbeatThreshold2: 0,
      },
    });
  });

  test("private: two passcodes, stored with both limits", async () => {
    await using d = await startTestDaemon();
    const { status, body } = await d.post("/api/v2/mapping/add", { mapping: PRIVATE });
    expect(status).toBe(200);
    expect(body.passcode1).toMatch(UUID);
    expect(body.passcode2).toMatch(UUID);
    expect(body.passcode1).not.toBe(body.passcode2);
    const json = { mappings: storedRecords(d.settings.stateFile) };
    expect(json.mappings[0]).toMatchObject({ maxconnectionsport1: 1, maxconnectionsport2: 1, passcodeport2: body.passcode2 });
  });

  test("a JSON body with the same fields, numbers as strings, mapping as an object", async () => {
    await using d = await startTestDaemon();
    const asObject = await d.post("/api/v2/mapping/add", { mapping: { type: "public", maxconnections: "60", heartbeatabsencethreshold: "0" } }, { json: true });
    expect(asObject.status).toBe(200);
    const asString = await d.post("/api/v2/mapping/add", { mapping: PRIVATE }, { json: true });
    expect(asString.status).toBe(200);
    expect(d.daemon.service.count).toBe(2);
  });

  const bad: Record<string, unknown> = {
    "missing mapping": undefined,
    "empty mapping": "",
    "invalid JSON": "{type:public",
    "unknown type": JSON.stringify({ type: "secret", maxconnections: 1, heartbeatabsencethreshold: 0 }),
    "missing field": JSON.stringify({ type: "public", maxconnections: 60 }),
    "fractional number": JSON.stringify({ type: "public", maxconnections: 1.5, heartbeatabsencethreshold: 0 }),
    "negative number": JSON.stringify({ type: "public", maxconnections: -1, heartbeatabsencethreshold: 0 }),
    "absurd number": JSON.stringify({ type: "public", maxconnections: 1e300, heartbeatabsencethreshold: 0 }),
    "number as words": JSON.stringify({ type: "public", maxconnections: "sixty", heartbeatabsencethreshold: 0 }),
    "private missing a side": JSON.stringify({ type: "private", maxconnectionsport1: 1, heartbeatabsencethresholdport1: 0, heartbeatabsencethresholdport2: 0 }),
    "an array": "[1,2]",
  };
  for (const [what, mapping] of Object.entries(bad)) {
    test(`400 for ${what}, nothing changes`, async () => {
      await using d = await startTestDaemon();
      const before = d.daemon.service.availablePorts;
      const { status, body } = await d.post("/api/v2/mapping/add", mapping === undefined ? {} : { mapping });
      expect(status).toBe(400);
      expect(body.status).toBe("error");
      expect(typeof body.errormessage).toBe("string");
      expect(body.errormessage.length).toBeGreaterThan(10);
      expect(d.daemon.service.count).toBe(0);
      expect(d.daemon.service.availablePorts).toBe(before);
    });
  }

  test("507 when fewer than two ports are free", async () => {
    const one = randomPortRange(1);
    await using d = await startTestDaemon({ ports: [one] });
    const { status, body } = await d.post("/api/v2/mapping/add", { mapping: PUBLIC });
    expect(status).toBe(507);
    expect(body.errormessage).toBe("No enough available ports");
  });

  test("the pool runs dry exactly; remove gives the ports back", async () => {
    const base = randomPortRange(5).from;
    await using d = await startTestDaemon({ ports: [{ from: base, to: base + 4 }] });
    const first = await d.post("/api/v2/mapping/add", { mapping: PUBLIC });
    const second = await d.post("/api/v2/mapping/add", { mapping: PUBLIC });
    expect([first.status, second.status]).toEqual([200, 200]);
    const third = await d.post("/api/v2/mapping/add", { mapping: PUBLIC });
    expect(third.status).toBe(507);
    expect((await d.post("/api/v2/status", { mappingid: "all" })).body.availablePorts).toBe(1);
    expect((await d.post("/api/v2/mapping/remove", { mappingid: first.body.id })).status).toBe(200);
    expect((await d.post("/api/v2/status", { mappingid: "all" })).body.availablePorts).toBe(3);
    expect((await d.post("/api/v2/mapping/add", { mapping: PUBLIC })).status).toBe(200);
  });

  test("a pool port that another process holds is skipped", async () => {
    const base = randomPortRange(3).from;
    await using held = await holdPort(base);
    await using d = await startTestDaemon({ ports: [{ from: base, to: base + 2 }] });
    const { status, body } = await d.post("/api/v2/mapping/add", { mapping: PUBLIC });
    expect(status).toBe(200);
    expect([body.port1, body.port2].sort()).toEqual([base + 1, base + 2]);
    expect((await d.post("/api/v2/mapping/add", { mapping: PUBLIC })).status).toBe(507);
    expect(held.port).toBe(base);
  });

  test("200 concurrent adds: all ports distinct, every mapping in the state file", async () => {
    await using big = await startTestDaemon({ ports: [randomPortRange(1000)] });
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => big.post("/api/v2/mapping/add", { mapping: i % 2 ? PUBLIC : PRIVATE })));
    expect(answers.map((a) => a.status)).toEqual(Array(200).fill(200));
    const ports = answers.flatMap((a) => [a.body.port1, a.body.port2]);
    expect(new Set(ports).size).toBe(400);
    const stored = loadState(big.settings.stateFile);
    expect(new Set(stored.map((e) => (e.kind === "mapping" ? e.mapping.id : ""))).size).toBe(200);
    expect(stored.map((e) => (e.kind === "mapping" ? e.mapping.id : "")).sort()).toEqual(answers.map((a) => a.body.id).sort());
  });
});

describe("mapping/remove", () => {
  test("closes both listeners, frees the ports and updates the state file", async () => {
    await using d = await startTestDaemon();
    const { body } = await d.post("/api/v2/mapping/add", { mapping: PRIVATE });
    const free = d.daemon.service.availablePorts;
    const removed = await d.post("/api/v2/mapping/remove", { mappingid: body.id });
    expect(removed.status).toBe(200);
    expect(Object.keys(removed.body)).toEqual(["status", "id", "timestamp"]);
    expect(removed.body.id).toBe(body.id);
    expect(await canConnect(body.port1)).toBe(false);
    expect(await canConnect(body.port2)).toBe(false);
    expect(d.daemon.service.availablePorts).toBe(free + 2);
    expect(loadState(d.settings.stateFile)).toEqual([]);
  });

  test("400 without an id, 404 for an unknown id, and nothing changes", async () => {
    await using d = await startTestDaemon();
    await d.post("/api/v2/mapping/add", { mapping: PUBLIC });
    const missing = await d.post("/api/v2/mapping/remove", {});
    expect(missing.status).toBe(400);
    expect(missing.body.errormessage).toContain("mappingid");
    const unknown = await d.post("/api/v2/mapping/remove", { mappingid: "no-such-id" });
    expect(unknown.status).toBe(404);
    expect(unknown.body.status).toBe("error");
    expect(d.daemon.service.count).toBe(1);
  });
});

describe("status and list", () => {
  test("status all counts port mappings only and free ports exactly", async () => {
    await using d = await startTestDaemon();
    const total = d.daemon.service.totalPorts;
    await d.post("/api/v2/mapping/add", { mapping: PUBLIC });
    await d.post("/api/v2/direct/add", {});
    const { status, body, text } = await d.post("/api/v2/status", { mappingid: "all" });
    expect(status).toBe(200);
    expect(text).toMatch(/"status":"running"/);
    expect(body).toMatchObject({ id: "all", status: "running", mappings: 1, version: "2.0.0", availablePorts: total - 2 });
    expect(Object.keys(body).slice(0, 6)).toEqual(["id", "timestamp", "status", "mappings", "version", "availablePorts"]);
  });

  test("a public mapping reports public/private, a private one private1/private2", async () => {
    await using d = await startTestDaemon();
    const pub = (await d.post("/api/v2/mapping/add", { mapping: PUBLIC })).body;
    const priv = (await d.post("/api/v2/mapping/add", { mapping: PRIVATE })).body;
    const a = (await d.post("/api/v2/status", { mappingid: pub.id })).body;
    expect(a).toMatchObject({ id: pub.id, public: "Active", private: "Active" });
    const b = (await d.post("/api/v2/status", { mappingid: priv.id })).body;
    expect(b).toMatchObject({ id: priv.id, private1: "Active", private2: "Active" });
    expect(b.public).toBeUndefined();
    expect((await d.post("/api/v2/status", { mappingid: "nope" })).status).toBe(404);
    expect((await d.post("/api/v2/status", {})).status).toBe(400);
  });

  test("mapping/list shows every mapping without passcodes", async () => {
    await using d = await startTestDaemon();
    const pub = (await d.post("/api/v2/mapping/add", { mapping: PUBLIC })).body;
    const priv = (await d.post("/api/v2/mapping/add", { mapping: PRIVATE })).body;
    const { status, body, text } = await d.post("/api/v2/mapping/list", {});
    expect(status).toBe(200);
    expect(body.status).toBe("ok");
    expect(body.mappings.map((m: { id: string }) => m.id).sort()).toEqual([pub.id, priv.id].sort());
    expect(body.mappings.find((m: { id: string }) => m.id === pub.id)).toMatchObject({
      type: "public", port1: pub.port1, port2: pub.port2, maxconnectionsport1: 60, maxconnectionsport2: 0,
      heartbeatabsencethresholdport1: 200000, heartbeatabsencethresholdport2: 0,
    });
    for (const secret of [pub.passcode1, priv.passcode1, priv.passcode2]) expect(text).not.toContain(secret);
  });
});
