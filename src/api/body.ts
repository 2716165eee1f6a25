// Request bodies: form-encoded as the Controller sends them, or a JSON object with the same fields.
import { ConnectorError } from "../errors.ts";

/** Larger bodies are answered 413 by the HTTP transport before they are read (src/api/http-parser.ts). */
export const MAX_BODY_BYTES = 64 * 1024;

export type Fields = Record<string, unknown>;

/** The fields of a complete body (bytes that are not UTF-8 become U+FFFD); 400 when JSON is announced and not given. */
export function readFields(body: Uint8Array, contentType: string | undefined): Fields {
  const text = new TextDecoder().decode(body);
  if ((contentType ?? "").toLowerCase().includes("json")) return parseJsonObject(text);
  const fields: Fields = {};
  for (const [key, value] of new URLSearchParams(text)) if (!(key in fields)) fields[key] = value;
  return fields;
}

function parseJsonObject(text: string): Fields {
  if (text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ConnectorError("bad_request", "The request body is not valid JSON.");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ConnectorError("bad_request", "The request body must be a JSON object.");
  }
  return value as Fields;
}
