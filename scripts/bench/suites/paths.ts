// The four ways bytes travel in every relay measurement, and how each one's two ends are set up.
import type { Target } from "../gen/net.ts";
import type { Mapping } from "../targets/api.ts";
import type { World } from "./world.ts";

export type PathName = "direct" | "haproxy" | "public" | "private";
export const PATHS: PathName[] = ["direct", "haproxy", "public", "private"];

/** Both ends of one path for `streams` connections: who receives (listens or dials as agent) and whom the sender dials. */
export interface Ends {
  receive: { listenPort: number; targets?: undefined } | { targets: Target[]; listenPort?: undefined };
  send: Target[];
  /** The relay process whose CPU the run is charged to; none for direct. */
  relayPid: number | undefined;
  release(): Promise<void>;
}

/**
 * Sets a path up. Connector paths get fresh mappings per run (and lose them after), the way the
 * Controller opens them, so no run inherits another's agent connections.
 */
export async function openEnds(world: World, path: PathName, tls: boolean, streams: number, perMapping = streams): Promise<Ends> {
  const fixed = tls ? world.ports.tls : world.ports.plain;
  const connector = tls ? world.connector.tls : world.connector.plain;
  const repeat = (target: Target) => Array.from({ length: streams }, () => target);
  const nothing = async () => {};
  switch (path) {
    case "direct":
      return { receive: { listenPort: fixed.direct }, send: repeat({ port: fixed.direct }), relayPid: undefined, release: nothing };
    case "haproxy":
      if (world.haproxy === undefined) throw new Error("this run has no HAProxy");
      return { receive: { listenPort: fixed.behind }, send: repeat({ port: fixed.proxy }), relayPid: world.haproxy.pid, release: nothing };
    case "public": {
      const count = Math.ceil(streams / perMapping);
      const mappings: Mapping[] = [];
      for (let i = 0; i < count; i++) mappings.push(await connector.api.addPublic(perMapping));
      const of = (i: number) => mappings[Math.floor(i / perMapping)]!;
      return {
        receive: { targets: Array.from({ length: streams }, (_, i) => ({ port: of(i).port1, passcode: of(i).passcode1 })) },
        send: Array.from({ length: streams }, (_, i) => ({ port: of(i).port2 })),
        relayPid: connector.pid,
        release: () => removeAll(connector.api, mappings),
      };
    }
    case "private": {
      const mappings: Mapping[] = [];
      for (let i = 0; i < streams; i++) mappings.push(await connector.api.addPrivate());
      return {
        receive: { targets: mappings.map((m) => ({ port: m.port2, passcode: m.passcode2 })) },
        send: mappings.map((m) => ({ port: m.port1, passcode: m.passcode1 })),
        relayPid: connector.pid,
        release: () => removeAll(connector.api, mappings),
      };
    }
  }
}

async function removeAll(api: World["connector"]["plain"]["api"], mappings: Mapping[]): Promise<void> {
  for (const m of mappings) await api.remove(m.id);
}
