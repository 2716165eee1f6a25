// API input schemas: what each endpoint accepts, validated once at the edge.
import * as v from "valibot";
import { fieldPath } from "../config/issues.ts";
import { ConnectorError } from "../errors.ts";
import type { MappingRequest } from "../mappings/service.ts";
import { WholeNumber } from "../store/schema.ts";
import type { Fields } from "./body.ts";

export const MAX_CONNECTIONS = 10_000;
/** One day: longer than any heartbeat an agent could mean. */
export const MAX_HEARTBEAT_MS = 86_400_000;

const Connections = v.pipe(WholeNumber, v.maxValue(MAX_CONNECTIONS, `must be at most ${MAX_CONNECTIONS}`));
const Threshold = v.pipe(WholeNumber, v.maxValue(MAX_HEARTBEAT_MS, `must be at most ${MAX_HEARTBEAT_MS} ms`));

const MappingInput = v.variant(
  "type",
  [
    v.object({ type: v.literal("public"), maxconnections: Connections, heartbeatabsencethreshold: Threshold }),
    v.object({
      type: v.literal("private"),
      maxconnectionsport1: Connections,
      maxconnectionsport2: Connections,
      heartbeatabsencethresholdport1: Threshold,
      heartbeatabsencethresholdport2: Threshold,
    }),
  ],
  'must have "type" "public" or "private"',
);

/** Parses the `mapping` field of mapping/add (a JSON string, or an object in a JSON body). */
export function parseMappingRequest(fields: Fields): MappingRequest {
  let value = fields.mapping;
  if (value === undefined || value === "") throw badField("The field mapping is missing.");
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      throw badField("The field mapping is not valid JSON.");
    }
  }
  const parsed = v.safeParse(MappingInput, value);
  if (!parsed.success) {
    const issue = parsed.issues[0]!;
    const path = fieldPath(issue);
    const what = path === "" ? "The mapping" : `The mapping field ${path}`;
    throw badField(issue.input === undefined && path !== "" ? `${what} is missing.` : `${what} ${issue.message}.`);
  }
  const input = parsed.output;
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

const Text = v.pipe(v.string(), v.nonEmpty(), v.maxLength(4096));

/** A required text field (an id, a passkey); 400 naming the field when missing or not text. */
export function requireText(fields: Fields, name: string): string {
  const value = fields[name];
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  if (v.is(Text, value)) return value;
  throw badField(value === undefined || value === "" ? `The field ${name} is missing.` : `The field ${name} must be text.`);
}

/** An optional text field: the empty string when missing. */
export function optionalText(fields: Fields, name: string): string {
  const value = fields[name];
  return value === undefined || value === null ? "" : typeof value === "string" || typeof value === "number" ? String(value).slice(0, 65536) : "";
}

function badField(message: string): ConnectorError {
  return new ConnectorError("bad_request", message);
}
