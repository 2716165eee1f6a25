// How the command line reaches the running daemon: over loopback on the API port, trusting the Connector's own certificate.
import type { Settings } from "../config/load.ts";
import { ConnectorError } from "../errors.ts";
import { readOptional } from "../read-optional.ts";
import { lockHolder } from "../store/lock.ts";

export interface DaemonClient {
  readonly url: string;
  /**
   * POSTs form fields to an API path. Rejects with ConnectorError("not_running") when nothing
   * answers and no daemon holds the state file's lock, and with ("not_answering") when a daemon
   * holds it (or something accepted the connection) but no answer came in time.
   */
  call(path: string, fields?: Record<string, string>): Promise<Record<string, unknown>>;
}

/**
 * The daemon listens on every interface, and the commandline endpoint answers loopback callers
 * only, so the CLI always dials loopback: `address` may be this machine's own public IP or name,
 * and a connection to that arrives from that IP, which is not loopback.
 */
export const LOOPBACK = "127.0.0.1";

export function daemonUrl(settings: Settings): string {
  return `${settings.dev ? "http" : "https"}://${LOOPBACK}:${settings.apiPort}`;
}

export function createDaemonClient(settings: Settings, timeoutMs = 5000): DaemonClient {
  const url = daemonUrl(settings);
  let tls: { ca: string; checkServerIdentity: () => undefined } | undefined;
  if (!settings.dev) {
    // The Connector's own certificate is the only root trusted; it does not name the loopback address.
    const ca = readOptional(settings.certFile); // without it the system roots are tried
    if (ca !== undefined) tls = { ca, checkServerIdentity: () => undefined };
  }
  return {
    url,
    async call(path, fields = {}) {
      let response: Response;
      try {
        response = await fetch(`${url}${path}`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams(fields).toString(),
          signal: AbortSignal.timeout(timeoutMs),
          tls,
        } as RequestInit);
      } catch (error) {
        throw unreachable(settings, url, timeoutMs, error);
      }
      const body = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
      if (body === undefined) throw new ConnectorError("internal", `The service at ${url} did not answer like a Connector (HTTP ${response.status}).`);
      if (typeof body.errormessage === "string") throw new ConnectorError("internal", `The Connector answered: ${body.errormessage}`);
      return body;
    },
  };
}

/** Tells a daemon that is gone from one that is alive (it holds the lock, or took the connection) but silent. */
function unreachable(settings: Settings, url: string, timeoutMs: number, error: unknown): ConnectorError {
  const holder = lockHolder(settings.stateFile);
  const timedOut = (error as Error).name === "TimeoutError";
  if (holder === undefined && !timedOut) {
    return new ConnectorError("not_running", `No Connector answers at ${url} (${(error as Error).message}).`, { cause: error });
  }
  const who = holder === undefined ? "Something" : `Connector${holder.pid === undefined ? "" : ` (process ${holder.pid})`}`;
  const what = holder === undefined ? "accepts connections" : "is running";
  return new ConnectorError(
    "not_answering",
    `${who} ${what} but does not answer at ${url} ${timedOut ? `within ${timeoutMs / 1000} s` : `(${(error as Error).message})`}.`,
    { cause: error },
  );
}
