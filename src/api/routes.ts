// The endpoints of /api/v2: what each accepts, who may call it, and the exact body it answers with.
import { timingSafeEqual } from "node:crypto";
import type { Clock } from "../clock.ts";
import { ConnectorError } from "../errors.ts";
import type { Rendezvous } from "../mappings/direct.ts";
import type { MappingService } from "../mappings/service.ts";
import { describeMapping, liveCounts } from "../mappings/report.ts";
import type { PortState } from "../relay/types.ts";
import type { Fields } from "./body.ts";
import { optionalText, parseDirectSide, parseMappingRequest, requireText } from "./inputs.ts";

export type Access = "controller" | "loopback";

export interface RouteContext {
  fields: Fields;
  /** The socket peer, normalised. */
  peer: string;
  /** X-Forwarded-For's first address when present, else the peer. */
  remoteIp: string;
}

export interface Route {
  access: Access;
  handle(context: RouteContext): Promise<object> | object;
}

export interface RouteDeps {
  service: MappingService;
  rendezvous: Rendezvous;
  clock: Clock;
  version: string;
  /** The broker port from the settings, reported by direct/add. */
  broker: number;
  /** The report of `commandline status` and `iofog-connector status`; JSON when `params` is "json". */
  statusText(json: boolean): string;
  helpText(): string;
  versionText(): string;
  /** Starts a graceful shutdown after the response is sent. */
  requestStop(): void;
  /** Extra fields for status "all" (uptime, mode, connections). */
  summary(): Record<string, unknown>;
}

const active = (port: PortState | undefined) => (port?.active ? "Active" : "Inactive");

/** The route table, keyed by path. */
export function createRoutes(deps: RouteDeps): Map<string, Route> {
  const { service, rendezvous, clock } = deps;
  const stamp = <T extends object>(body: T) => ({ ...body, timestamp: clock.now() });

  return new Map<string, Route>([
    ["/api/v2/mapping/add", {
      access: "controller",
      async handle({ fields }) {
        const m = await service.add(parseMappingRequest(fields));
        return stamp({ status: "ok", id: m.id, port1: m.port1, port2: m.port2, passcode1: m.passcode1, passcode2: m.passcode2 });
      },
    }],
    ["/api/v2/mapping/remove", {
      access: "controller",
      async handle({ fields }) {
        const id = requireText(fields, "mappingid");
        await service.remove(id);
        return stamp({ status: "ok", id });
      },
    }],
    ["/api/v2/mapping/list", {
      access: "controller",
      handle: () => stamp({ status: "ok", mappings: service.list().map((m) => describeMapping(m, service.state(m.id))) }),
    }],
    ["/api/v2/status", {
      access: "controller",
      handle({ fields }) {
        const id = requireText(fields, "mappingid");
        if (id === "all") {
          return { id: "all", timestamp: clock.now(), status: "running", mappings: service.count, version: deps.version, availablePorts: service.availablePorts, ...deps.summary() };
        }
        const mapping = service.get(id);
        if (mapping === undefined) throw new ConnectorError("not_found", `No mapping has the id ${id}.`);
        const state = service.state(id);
        const ports = mapping.kind === "public"
          ? { public: active(state?.port2), private: active(state?.port1) }
          : { private1: active(state?.port1), private2: active(state?.port2) };
        return { id, timestamp: clock.now(), ...ports, ...liveCounts(state) };
      },
    }],
    ["/api/v2/commandline", {
      access: "loopback",
      handle({ fields }) {
        const command = optionalText(fields, "command").trim().toLowerCase();
        const text = (response: string) => ({ response, timestamp: clock.now() });
        switch (command) {
          case "status":
            return text(deps.statusText(optionalText(fields, "params").trim() === "json"));
          case "stop":
            deps.requestStop();
            return text("Connector is stopping.");
          case "version":
            return text(deps.versionText());
          default:
            return text(deps.helpText());
        }
      },
    }],
    ["/api/v2/direct/add", {
      access: "controller",
      async handle() {
        const direct = await service.addDirect();
        return stamp({ status: "ok", id: direct.id, passkey: direct.passkey, port: deps.broker });
      },
    }],
    ["/api/v2/direct", {
      access: "controller",
      handle({ fields, remoteIp }) {
        const id = requireText(fields, "id");
        const passkey = requireText(fields, "passkey");
        const direct = service.getDirect(id);
        if (direct === undefined || !sameSecret(direct.passkey, passkey)) {
          throw new ConnectorError("not_found", "No direct connection has this id and passkey.");
        }
        const side = parseDirectSide(fields, remoteIp);
        service.markDirectUsed(id);
        const result = rendezvous.call(id, side);
        if (result.status === "wait") return stamp({ status: "wait", id });
        const { peer } = result;
        return stamp({ status: "ok", id, ip: peer.ip, remoteip: peer.remoteip, port: peer.port, certificate: peer.certificate });
      },
    }],
    ["/api/v2/direct/remove", {
      access: "controller",
      async handle({ fields }) {
        const id = requireText(fields, "mappingid");
        await service.removeDirect(id);
        rendezvous.forget(id);
        return stamp({ status: "ok", id });
      },
    }],
  ]);
}

/** Constant-time comparison of two secrets of any length. */
function sameSecret(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
