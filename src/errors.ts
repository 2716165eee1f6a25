// One error type for the whole Connector: a code that the API maps to an HTTP status and the CLI to an exit code.

/** Every failure the Connector reports on purpose. */
export type ErrorCode =
  | "bad_request" // 400: malformed or invalid input
  | "forbidden" // 403: caller not allowed
  | "not_found" // 404: unknown path or id
  | "method_not_allowed" // 405
  | "conflict" // 409: a third caller on a direct rendezvous
  | "too_large" // 413: body over the limit
  | "no_ports" // 507: fewer than two free ports
  | "limit" // 507: a configured maximum (direct records) is reached
  | "port_in_use" // a listener port is held by something else
  | "storage" // the state file could not be written
  | "unavailable" // 503: the cluster store (etcd) cannot be reached or has no quorum
  | "config" // the settings file is unusable
  | "state" // the state file is unreadable or corrupt
  | "tls" // certificate or key unusable
  | "not_running" // the CLI found no running daemon
  | "not_answering" // a daemon holds the state file's lock but its API does not answer in time
  | "already_running" // another daemon holds the state file's lock
  | "internal";

export class ConnectorError extends Error {
  override readonly name = "ConnectorError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: { port?: number; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
  }
}

export function isConnectorError(error: unknown, code?: ErrorCode): error is ConnectorError {
  return error instanceof ConnectorError && (code === undefined || error.code === code);
}
