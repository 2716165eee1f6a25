// A real daemon whose mappings have relayed bytes, a wrong-passcode reject and a heartbeat timeout, for checks on /metrics.
import type { Settings } from "../../src/config/load.ts";
import { startTestDaemon, type TestDaemon } from "../support/daemon.ts";
import { within } from "../support/endpoint.ts";
import { scrapeWhen } from "../support/exposition.ts";
import { rawConnect } from "../support/raw-socket.ts";

export interface Mapping {
  id: string;
  port1: number;
  port2: number;
  passcode1: string;
}

export interface BusyDaemon extends TestDaemon {
  /** A public mapping that relayed "hello" from a client to its agent. */
  relayed: Mapping;
  /** A public mapping whose port1 refused one wrong passcode and one TLS handshake (dev mode: plain TCP). */
  refused: Mapping;
  /** A public mapping whose agent connection was closed for heartbeat absence. */
  silent: Mapping;
  privates: Mapping[];
  scrape(): Promise<string>;
}

const publicMapping = (heartbeat: number) => JSON.stringify({ type: "public", maxconnections: 2, heartbeatabsencethreshold: heartbeat });
const PRIVATE = JSON.stringify({ type: "private", maxconnectionsport1: 1, maxconnectionsport2: 1, heartbeatabsencethresholdport1: 0, heartbeatabsencethresholdport2: 0 });

export async function startBusyDaemon(overrides: Partial<Settings> = {}): Promise<BusyDaemon> {
  const d = await startTestDaemon(overrides);
  const add = async (mapping: string): Promise<Mapping> => {
    const { status, body } = await d.post("/api/v2/mapping/add", { mapping });
    if (status !== 200) throw new Error(`mapping/add answered ${status}: ${JSON.stringify(body)}`);
    return body;
  };
  const scrape = () => fetch(`${d.url}/metrics`).then((r) => r.text());
  try {
    const relayed = await add(publicMapping(0));
    const refused = await add(publicMapping(0));
    const silent = await add(publicMapping(150));
    const privates = [await add(PRIVATE), await add(PRIVATE)];

    using agent = await rawConnect(relayed.port1);
    agent.socket.write(relayed.passcode1);
    await agent.waitFor(10);
    using client = await rawConnect(relayed.port2);
    client.socket.write("hello");
    await agent.waitFor(15);

    using stranger = await rawConnect(refused.port1);
    stranger.socket.write("x".repeat(36));
    await within(10_000, "the wrong passcode refused", stranger.closed);
    using tlsAgent = await rawConnect(refused.port1);
    tlsAgent.socket.write(Uint8Array.of(0x16, 0x03, 0x01));
    await within(10_000, "the TLS handshake refused", tlsAgent.closed);

    using quiet = await rawConnect(silent.port1);
    quiet.socket.write(silent.passcode1);
    await within(10_000, "the silent agent connection closed", quiet.closed);
    // Relay threads publish their counters every 250 ms: scrapes start once all of the above has reached /metrics.
    await scrapeWhen(`${d.url}/metrics`, (samples) =>
      samples.get(`iofog_connector_received_bytes_total{port="${relayed.port2}"}`) === 5 &&
      samples.get('iofog_connector_handshakes_rejected_total{reason="passcode"}') === 1 &&
      samples.get('iofog_connector_handshakes_rejected_total{reason="tls"}') === 1 &&
      samples.get("iofog_connector_heartbeat_timeouts_total") === 1);
    return Object.assign(d, { relayed, refused, silent, privates, scrape });
  } catch (error) {
    await d[Symbol.asyncDispose]();
    throw error;
  }
}
