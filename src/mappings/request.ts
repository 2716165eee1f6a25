// What mapping/add asks for, and the mapping it becomes: fresh id and passcodes on the ports the pool gave.
import { randomUUID } from "node:crypto";
import type { MappingKind, RelayMapping } from "../relay/types.ts";

/** What the Controller asks for in mapping/add, validated. */
export type MappingRequest =
  | { type: "public"; maxConnections: number; heartbeatThreshold: number }
  | {
      type: "private";
      maxConnections1: number;
      maxConnections2: number;
      heartbeatThreshold1: number;
      heartbeatThreshold2: number;
    };

/** A new mapping for `request` on `port1` and `port2`, with a random id and passcodes. */
export function newMapping(request: MappingRequest, port1: number, port2: number): RelayMapping {
  const base = { id: randomUUID(), port1, port2, passcode1: randomUUID() };
  if (request.type === "public") {
    return {
      ...base,
      kind: "public" satisfies MappingKind,
      passcode2: "",
      maxConnections1: request.maxConnections,
      maxConnections2: 0,
      heartbeatThreshold1: request.heartbeatThreshold,
      heartbeatThreshold2: 0,
    };
  }
  return {
    ...base,
    kind: "private",
    passcode2: randomUUID(),
    maxConnections1: request.maxConnections1,
    maxConnections2: request.maxConnections2,
    heartbeatThreshold1: request.heartbeatThreshold1,
    heartbeatThreshold2: request.heartbeatThreshold2,
  };
}
