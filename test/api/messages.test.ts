// Item 17: every refused API input is answered with a sentence naming the field, the rule and what was given.
import { describe, expect, test } from "bun:test";
import { stateOnDisk } from "../support/state.ts";
import { startTestDaemon } from "../support/daemon.ts";

const EXAMPLE = '{"type":"public","maxconnections":60,"heartbeatabsencethreshold":200000}';
const pub = (fields: Record<string, unknown>) => JSON.stringify({ type: "public", maxconnections: 60, heartbeatabsencethreshold: 0, ...fields });
const priv = (fields: Record<string, unknown>) =>
  JSON.stringify({ type: "private", maxconnectionsport1: 1, maxconnectionsport2: 1, heartbeatabsencethresholdport1: 0, heartbeatabsencethresholdport2: 0, ...fields });

/** [endpoint, fields, exact errormessage]; `json` sends a JSON body instead of a form. */
const table: [string, Record<string, unknown>, string, { json?: boolean }?][] = [
  ["/api/v2/mapping/add", {}, `mapping is missing; it must be a JSON object such as ${EXAMPLE}.`],
  ["/api/v2/mapping/add", { mapping: "{type:public" }, `mapping must be a JSON object such as ${EXAMPLE} (got "{type:public", which is not valid JSON).`],
  ["/api/v2/mapping/add", { mapping: "[1,2]" }, `mapping must be a JSON object such as ${EXAMPLE} (got [1,2]).`],
  ["/api/v2/mapping/add", { mapping: "5" }, `mapping must be a JSON object such as ${EXAMPLE} (got 5).`],
  ["/api/v2/mapping/add", { mapping: pub({ type: "x" }) }, 'type must be "public" or "private" (got "x").'],
  ["/api/v2/mapping/add", { mapping: "{}" }, 'type is missing; it must be "public" or "private".'],
  ["/api/v2/mapping/add", { mapping: pub({ maxconnections: 1.5 }) }, "maxconnections must be a whole number from 0 to 10000 (got 1.5)."],
  ["/api/v2/mapping/add", { mapping: pub({ maxconnections: "1.5" }) }, 'maxconnections must be a whole number from 0 to 10000 (got "1.5").'],
  ["/api/v2/mapping/add", { mapping: pub({ maxconnections: -1 }) }, "maxconnections must be a whole number from 0 to 10000 (got -1)."],
  ["/api/v2/mapping/add", { mapping: pub({ maxconnections: 10001 }) }, "maxconnections must be a whole number from 0 to 10000 (got 10001)."],
  ["/api/v2/mapping/add", { mapping: pub({ maxconnections: "sixty" }) }, 'maxconnections must be a whole number from 0 to 10000 (got "sixty").'],
  ["/api/v2/mapping/add", { mapping: pub({ maxconnections: null }) }, "maxconnections must be a whole number from 0 to 10000 (got null)."],
  ["/api/v2/mapping/add", { mapping: pub({ heartbeatabsencethreshold: 1e300 }) }, "heartbeatabsencethreshold must be a whole number of milliseconds from 0 to 86400000 (got 1e+300)."],
  ["/api/v2/mapping/add", { mapping: JSON.stringify({ type: "public", maxconnections: 60 }) }, "heartbeatabsencethreshold is missing; it must be a whole number of milliseconds from 0 to 86400000."],
  ["/api/v2/mapping/add", { mapping: priv({ maxconnectionsport2: undefined }) }, "maxconnectionsport2 is missing; it must be a whole number from 0 to 10000."],
  ["/api/v2/mapping/add", { mapping: priv({ heartbeatabsencethresholdport1: true }) }, "heartbeatabsencethresholdport1 must be a whole number of milliseconds from 0 to 86400000 (got true)."],
  ["/api/v2/mapping/add", { mapping: 7 }, `mapping must be a JSON object such as ${EXAMPLE} (got 7).`, { json: true }],
  ["/api/v2/mapping/remove", {}, "mappingid is missing; it must be text of 1 to 4096 characters."],
  ["/api/v2/mapping/remove", { mappingid: { a: 1 } }, 'mappingid must be text of 1 to 4096 characters (got {"a":1}).', { json: true }],
  ["/api/v2/mapping/remove", { mappingid: "x".repeat(5000) }, `mappingid must be text of 1 to 4096 characters (got "${"x".repeat(39)}…).`],
  ["/api/v2/status", {}, "mappingid is missing; it must be text of 1 to 4096 characters."],
  ["/api/v2/direct/remove", { mappingid: [] }, "mappingid must be text of 1 to 4096 characters (got []).", { json: true }],
  ["/api/v2/direct", {}, "id is missing; it must be text of 1 to 4096 characters."],
  ["/api/v2/direct", { id: "a" }, "passkey is missing; it must be text of 1 to 4096 characters."],
];

describe("API error messages read as sentences", () => {
  test("a table of bad inputs, each answered 400 with its exact sentence, and nothing changes", async () => {
    await using d = await startTestDaemon();
    const kept = (await d.post("/api/v2/mapping/add", { mapping: pub({}) })).body;
    const state = stateOnDisk(d.settings.stateFile);
    const free = d.daemon.service.availablePorts;
    for (const [path, fields, message, options] of table) {
      const { status, body } = await d.post(path, fields, options);
      expect({ path, fields, status, message: body.errormessage }).toEqual({ path, fields, status: 400, message });
    }
    expect(stateOnDisk(d.settings.stateFile)).toBe(state);
    expect(d.daemon.service.availablePorts).toBe(free);
    expect(d.daemon.service.list().map((m) => m.id)).toEqual([kept.id]);
  });
});
