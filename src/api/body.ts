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
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (declared > limit) throw tooLarge();
  if (request.body === null) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of request.body) {
      size += chunk.byteLength;
      if (size > limit) throw tooLarge();
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof ConnectorError) throw error;
    throw new ConnectorError("bad_request", "The request body could not be read.", { cause: error });
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
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
