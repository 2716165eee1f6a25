// The two ways the Connector hosts its relay, measured side by side: relay threads (the default) and relayThreads 0,
// where the control thread relays too, as every release up to 2.0.0 did.
import { availableParallelism } from "node:os";

export interface RelayMode {
  key: "threads" | "inproc";
  name: string;
  settings: Record<string, unknown>;
}

export const RELAY_MODES: readonly RelayMode[] = [
  { key: "threads", name: `relay threads (default, ${availableParallelism()})`, settings: {} },
  { key: "inproc", name: "relayThreads 0 (control thread relays, as 2.0.0)", settings: { relayThreads: 0 } },
];
