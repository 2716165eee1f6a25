// A configs.json with N public mappings, so that a Connector starts with them as if it had been running for months.
import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { poolPorts, type Pool } from "../lib/ports.ts";

export interface StateOptions {
  mappings: number;
  /** Agent connections allowed per mapping (the Controller asks for 60). */
  maxConnections: number;
  heartbeatThreshold: number;
}

/** Writes the state file; returns the mappings with their ports and passcodes. */
export function writeStateFile(path: string, pool: Pool, options: StateOptions) {
  const ports = poolPorts(pool);
  const mappings = [];
  for (let i = 0; i < options.mappings; i++) {
    const port1 = ports.next().value;
    const port2 = ports.next().value;
    if (port1 === undefined || port2 === undefined) throw new Error(`the pool ${pool.from}-${pool.to} has no room for ${options.mappings} mappings`);
    mappings.push({
      id: randomUUID(),
      port1,
      port2,
      maxconnectionsport1: options.maxConnections,
      maxconnectionsport2: 0,
      passcodeport1: randomUUID(),
      passcodeport2: "",
      heartbeatabsencethresholdport1: options.heartbeatThreshold,
      heartbeatabsencethresholdport2: 0,
    });
  }
  writeFileSync(path, JSON.stringify({ mappings }));
  return mappings;
}
