// API input schemas: what each endpoint accepts, validated once at the edge, refused with a sentence naming the rule.
import * as v from "valibot";
import { describeIssue, record, shown } from "../config/issues.ts";
import { ConnectorError } from "../errors.ts";
import type { DirectCaller } from "../mappings/direct.ts";
import type { MappingRequest } from "../mappings/service.ts";
import { wholeNumber } from "../store/schema.ts";
import type { Fields } from "./body.ts";

export const MAX_CONNECTIONS = 10_000;
/** One day: longer than any heartbeat an agent could mean. */
export const MAX_HEARTBEAT_MS = 86_400_000;
/** Longest id, passkey or address accepted in a text field. */
export const MAX_TEXT = 4096;

const Connections = wholeNumber(MAX_CONNECTIONS);
const Threshold = wholeNumber(MAX_HEARTBEAT_MS, `a whole number of milliseconds from 0 to ${MAX_HEARTBEAT_MS}`);
const EXAMPLE = '{"type":"public","maxconnections":60,"heartbeatabsencethreshold":200000}';

const MappingInput = v.variant(
  "type",
  [
    record({ type: v.literal("public"), maxconnections: Connections, heartbeatabsencethreshold: Threshold }, "a JSON object"),
    record({
      type: v.literal("private"),
      maxconnectionsport1: Connections,
      maxconnectionsport2: Connections,
      heartbeatabsencethresholdport1: Threshold,
      heartbeatabsencethresholdport2: Threshold,
    }, "a JSON object"),
  ],
  (issue) => (issue.path === undefined ? `a JSON object such as ${EXAMPLE}` : '"public" or "private"'),
);

/** Parses the `mapping` field of mapping/add (a JSON string, or an object in a JSON body). */
export function parseMappingRequest(fields: Fields): MappingRequest {
  let value = fields.mapping;
  if (value === undefined || value === "") throw badField(`mapping is missing; it must be a JSON object such as ${EXAMPLE}.`);
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      throw badField(`mapping must be a JSON object such as ${EXAMPLE} (got ${shown(value)}, which is not valid JSON).`);
    }
  }
  if (Array.isArray(value)) throw badField(`mapping must be a JSON object such as ${EXAMPLE} (got ${shown(value)}).`);
  const input = parse(MappingInput, value, "mapping");
  if (input.type === "public") {
    return { type: "public", maxConnections: input.maxconnections, heartbeatThreshold: input.heartbeatabsencethreshold };
  }
  return {
    type: "private",
    maxConnections1: input.maxconnectionsport1,
    maxConnections2: input.maxconnectionsport2,
    heartbeatThreshold1: input.heartbeatabsencethresholdport1,
    heartbeatThreshold2: input.heartbeatabsencethresholdport2,
  };
}

const TEXT_RULE = `text of 1 to ${MAX_TEXT} characters`;
const Text = v.union([
  v.pipe(v.string(TEXT_RULE), v.nonEmpty(TEXT_RULE), v.maxLength(MAX_TEXT, TEXT_RULE)),
  v.pipe(v.number(TEXT_RULE), v.finite(TEXT_RULE), v.transform(String)), // a JSON body may carry an id as a number
], TEXT_RULE);

/** A required text field (an id, a passkey); 400 naming the field when missing or not text. */
export function requireText(fields: Fields, name: string): string {
  return parse(Text, fields[name] === "" ? undefined : fields[name], name);
}

/** An optional text field: the empty string when missing. */
export function optionalText(fields: Fields, name: string): string {
  const value = fields[name];
  return value === undefined || value === null ? "" : typeof value === "string" || typeof value === "number" ? String(value).slice(0, 65536) : "";
}

const PORT_RULE = "a port number from 1 to 65535";
const DirectSide = record({
  ip: v.pipe(v.string("an address as text"), v.maxLength(MAX_TEXT, `an address of at most ${MAX_TEXT} characters`)),
  // A JSON number, or the decimal digits a form sends; answered as a number, as the 1.x Connector did.
  port: v.pipe(wholeNumber(65535, PORT_RULE), v.minValue(1, PORT_RULE)),
  certificate: v.string("text, which may be empty"),
}, "a JSON object");

/** The details an agent gives about itself on /api/v2/direct: 400 unless ip, port and certificate are well-formed. */
export function parseDirectSide(fields: Fields, remoteip: string): DirectCaller {
  const side = parse(DirectSide, { ip: fields.ip, port: fields.port, certificate: fields.certificate }, "the request");
  return { ...side, remoteip };
}

function parse<const S extends v.GenericSchema>(schema: S, value: unknown, root: string): v.InferOutput<S> {
  const parsed = v.safeParse(schema, value);
  if (!parsed.success) throw badField(`${describeIssue(parsed.issues[0], root)}.`);
  return parsed.output;
}

function badField(message: string): ConnectorError {
  return new ConnectorError("bad_request", message);
}
