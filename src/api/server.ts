// The REST API server: routing, access rules and error bodies around the route table, over the HTTP transport.
import type { Clock } from "../clock.ts";
import { createRefusalReport } from "../descriptors.ts";
import { ConnectorError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { TlsMaterial } from "../relay/types.ts";
import { isLoopback, normalizeIp, type AccessList } from "./access.ts";
import { MAX_BODY_BYTES, readFields } from "./body.ts";
import type { ParsedRequest } from "./http-parser.ts";
import { startHttpServer, type HttpLimits } from "./http-server.ts";
import { errorResponse, jsonResponse } from "./respond.ts";
import type { Route } from "./routes.ts";

export interface ApiServerOptions {
  port: number;
  hostname: string;
  tls?: TlsMaterial;
  routes: Map<string, Route>;
  /** Read on every request so a reload takes effect at once. */
  controllers: () => AccessList;
  clock: Clock;
  log: Logger;
  /** Extra GET endpoints (metrics). */
  gets?: Map<string, (request: Request) => Response | Promise<Response>>;
  /** Told of every request: the endpoint (or "unknown"), the status and the seconds it took. */
  onRequest?: (endpoint: string, status: number, seconds: number) => void;
  /** Whether the descriptor budget has room for one more API connection; always by default. */
  admit?: () => boolean;
  /** Connection limits and deadlines other than the defaults (tests use short ones). */
  limits?: Partial<HttpLimits>;
}

export interface ApiServer {
  readonly port: number;
  /** Open API connections, each a descriptor. */
  readonly connections: number;
  setTls(tls: TlsMaterial): void;
  stop(): Promise<void>;
}

/** Starts the API server; fails with a ConnectorError when the port cannot be bound. */
export function startApiServer(options: ApiServerOptions): ApiServer {
  const { routes, clock, log } = options;
  const gets = options.gets ?? new Map();
  const endpointOf = (path: string) => (routes.has(path) || gets.has(path) ? path : "unknown");

  async function handle({ head, body }: ParsedRequest, peer: string): Promise<Response> {
    const path = pathOf(head.path);
    const route = routes.get(path);
    const get = gets.get(path);
    if (route === undefined && get === undefined) throw new ConnectorError("not_found", `There is no endpoint ${path || "/"}.`);
    if (head.method === "GET" && get !== undefined) {
      if (!options.controllers().allows(peer)) throw forbidden();
      return get(asFetchRequest(head));
    }
    if (head.method !== "POST" || route === undefined) {
      throw new ConnectorError("method_not_allowed", `${path} takes ${route ? "POST" : "GET"} requests only.`);
    }
    if (route.access === "loopback" ? !isLoopback(peer) : !options.controllers().allows(peer)) throw forbidden();
    const header = (name: string) => head.headers.find(([key]) => key === name)?.[1];
    const fields = readFields(body, header("content-type"));
    const forwarded = header("x-forwarded-for")?.split(",")[0]?.trim();
    return jsonResponse(await route.handle({ fields, peer, remoteIp: forwarded || peer }));
  }

  const answer = async (request: ParsedRequest, address: string): Promise<Response> => {
    const began = performance.now();
    let response: Response;
    try {
      response = await handle(request, normalizeIp(address));
    } catch (error) {
      if (!(error instanceof ConnectorError) || error.code === "internal") log.error(`API ${request.head.method} ${request.head.path} failed:`, error);
      response = errorResponse(error, clock.now());
    }
    options.onRequest?.(endpointOf(pathOf(request.head.path)), response.status, (performance.now() - began) / 1000);
    return response;
  };

  const refuse = (error: unknown): Response => {
    if (!(error instanceof ConnectorError) || error.code === "internal") log.error("API request failed:", error);
    const response = errorResponse(error, clock.now());
    options.onRequest?.("unknown", response.status, 0);
    return response;
  };

  try {
    return startHttpServer({
      port: options.port,
      hostname: options.hostname,
      tls: options.tls,
      clock,
      limits: { maxBodyBytes: MAX_BODY_BYTES, ...options.limits },
      admit: options.admit ?? (() => true),
      answer,
      refuse,
      onRefused: createRefusalReport(clock, (refused) =>
        log.warn(
          `The API closed ${refused} new connection(s) at accept since the last report: every open one was being answered, ` +
            "at its limit of open connections or near the descriptor limit.",
        ),
      ),
    });
  } catch (error) {
    throw bindError(options.port, error);
  }
}

/** The endpoint a request path names: no query, no trailing slashes, dot segments resolved as a URL would. */
function pathOf(target: string): string {
  let pathname: string;
  try {
    pathname = new URL(`http://connector${target}`).pathname;
  } catch {
    return target.split("?")[0]!; // not a valid URL: no endpoint matches it, and the 404 names it
  }
  return pathname.replace(/\/+$/, "");
}

/** A GET as a fetch Request, for handlers that read its URL or headers; header values fetch refuses are left out. */
function asFetchRequest(head: ParsedRequest["head"]): Request {
  const headers = new Headers();
  for (const [name, value] of head.headers) {
    try {
      headers.append(name, value);
    } catch {
      // a value fetch cannot carry (a stray control character): the handler does without it
    }
  }
  return new Request(`http://connector${head.path}`, { method: "GET", headers });
}

function forbidden(): ConnectorError {
  return new ConnectorError("forbidden", "This address is not allowed to call this endpoint.");
}

function bindError(port: number, error: unknown): ConnectorError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "EACCES" || (port < 1024 && /permission|EACCES/i.test(String(error)))) {
    return new ConnectorError("port_in_use", `The API cannot listen on port ${port}: ports below 1024 need root or CAP_NET_BIND_SERVICE (set "apiPort" or "dev" in the settings to use another).`, { port, cause: error });
  }
  if (code === "EADDRINUSE" || /in use/i.test(String(error))) {
    return new ConnectorError("port_in_use", `The API cannot listen on port ${port}: another program already uses it.`, { port, cause: error });
  }
  return new ConnectorError("internal", `The API cannot listen on port ${port}: ${String(error)}`, { port, cause: error });
}
