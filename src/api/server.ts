// The HTTP(S) server of the REST API: routing, access rules, body limits and error bodies around the route table.
import type { Server } from "bun";
import type { Clock } from "../clock.ts";
import { ConnectorError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { TlsMaterial } from "../relay/types.ts";
import { isLoopback, normalizeIp, type AccessList } from "./access.ts";
import { discardBody, MAX_BODY_BYTES, readFields } from "./body.ts";
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
}

export interface ApiServer {
  readonly port: number;
  setTls(tls: TlsMaterial): void;
  stop(): Promise<void>;
}

/** Starts the API server; rejects with a ConnectorError when the port cannot be bound. */
export function startApiServer(options: ApiServerOptions): ApiServer {
  const { routes, clock, log } = options;
  const gets = options.gets ?? new Map();

  async function handle(request: Request, server: Server<undefined>): Promise<Response> {
    const path = new URL(request.url).pathname.replace(/\/+$/, "");
    const route = routes.get(path);
    const get = gets.get(path);
    if (route === undefined && get === undefined) throw new ConnectorError("not_found", `There is no endpoint ${path || "/"}.`);
    const peer = normalizeIp(server.requestIP(request)?.address ?? "");
    if (request.method === "GET" && get !== undefined) {
      if (!options.controllers().allows(peer)) throw forbidden();
      return get(request);
    }
    if (request.method !== "POST" || route === undefined) {
      throw new ConnectorError("method_not_allowed", `${path} takes ${route ? "POST" : "GET"} requests only.`);
    }
    if (route.access === "loopback" ? !isLoopback(peer) : !options.controllers().allows(peer)) throw forbidden();
    const fields = await readFields(request, MAX_BODY_BYTES);
    const forwarded = request.headers.get("x-forwarded-for")?.split(",")[0]?.trim();
    return jsonResponse(await route.handle({ fields, peer, remoteIp: forwarded || peer }));
  }

  const serve = (tls: TlsMaterial | undefined, port: number) =>
    Bun.serve({
      port,
      hostname: options.hostname,
      tls: tls && { cert: tls.cert, key: tls.key },
      // Bodies are counted in readFields so that an oversized one gets the JSON error body; this is a backstop.
      maxRequestBodySize: 1024 * 1024,
      idleTimeout: 30,
      development: false,
      // Bun sets SO_REUSEPORT in production mode unless told otherwise: a second process could then
      // bind this port too, and the kernel would split the API calls between the two.
      reusePort: false,
      async fetch(request, server) {
        const began = performance.now();
        let response: Response;
        try {
          response = await handle(request, server);
        } catch (error) {
          if (!(error instanceof ConnectorError) || error.code === "internal") log.error(`API ${request.method} ${new URL(request.url).pathname} failed:`, error);
          response = errorResponse(error, clock.now());
          await discardBody(request);
        }
        if (options.onRequest) {
          const path = new URL(request.url).pathname.replace(/\/+$/, "");
          const known = routes.has(path) || gets.has(path);
          options.onRequest(known ? path : "unknown", response.status, (performance.now() - began) / 1000);
        }
        return response;
      },
      error(error) {
        log.error("API request failed:", error);
        return errorResponse(error, clock.now());
      },
    });

  let server: Server<undefined>;
  try {
    server = serve(options.tls, options.port);
  } catch (error) {
    throw bindError(options.port, error);
  }
  return {
    get port() {
      return server.port ?? options.port;
    },
    setTls(tls) {
      // Bun cannot swap the certificate of a live listener, so the listener is replaced: requests in
      // flight finish on the old one, and the port is rebound at once with the new pair.
      const old = server;
      const port = old.port ?? options.port;
      void old.stop(false);
      server = serve(tls, port);
    },
    async stop() {
      await server.stop(true);
    },
  };
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
