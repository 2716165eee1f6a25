// Request bodies: form-encoded as the Controller sends them, or a JSON object with the same fields.
import { ConnectorError } from "../errors.ts";

export const MAX_BODY_BYTES = 64 * 1024;

export type Fields = Record<string, unknown>;

/** Reads at most `limit` bytes of the body and returns its fields; 413 past the limit, 400 when unreadable. */
export async function readFields(request: Request, limit = MAX_BODY_BYTES): Promise<Fields> {
  const text = await readText(request, limit);
  const type = request.headers.get("content-type")?.toLowerCase() ?? "";
  if (type.includes("json")) return parseJsonObject(text);
  const fields: Fields = {};
  for (const [key, value] of new URLSearchParams(text)) if (!(key in fields)) fields[key] = value;
  return fields;
}

async function readText(request: Request, limit: number): Promise<string> {
  const tooLarge = () => new ConnectorError("too_large", `The request body is larger than ${limit / 1024} KiB.`);
  if (request.body === null) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    // An oversized body is still read to its end (the server caps it at 1 MiB): answering before
    // the client has finished sending would reset the connection and lose the 413 on the way.
    for await (const chunk of request.body) {
      size += chunk.byteLength;
      if (size <= limit) chunks.push(chunk);
    }
  } catch (error) {
    throw new ConnectorError("bad_request", "The request body could not be read.", { cause: error });
  }
  if (size > limit) throw tooLarge();
  return new TextDecoder().decode(Buffer.concat(chunks));
}

/**
 * Reads and drops a body the handler did not read (an error answered early), so the connection
 * stays usable and the client sees the answer instead of a reset.
 */
export async function discardBody(request: Request): Promise<void> {
  if (request.body === null || request.bodyUsed) return;
  try {
    for await (const _ of request.body);
  } catch {
    // the client went away; nothing is left to answer
  }
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
