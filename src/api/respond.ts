// Response bodies: compact JSON, and every error as {"status":"error","errormessage":...} with its HTTP status.
import { ConnectorError, isConnectorError, type ErrorCode } from "../errors.ts";

const STATUS: Partial<Record<ErrorCode, number>> = {
  bad_request: 400,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  too_large: 413,
  no_ports: 507,
  limit: 507,
  storage: 503,
  unavailable: 503,
  port_in_use: 503,
};

/** The HTTP status for an error code; anything unplanned is a 500. */
export function httpStatus(code: ErrorCode): number {
  return STATUS[code] ?? 500;
}

export function jsonResponse(body: object, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

/** The error body the Controller reads: it ignores statuses, so the `errormessage` field is what counts. */
export function errorResponse(error: unknown, now: number): Response {
  const known = isConnectorError(error) ? error : new ConnectorError("internal", "The Connector failed to handle this request; see its log.");
  return jsonResponse({ status: "error", errormessage: known.message, timestamp: now }, httpStatus(known.code));
}
