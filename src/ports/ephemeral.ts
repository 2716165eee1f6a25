// Detects pool ports inside the kernel's ephemeral range: outgoing connections can hold them, so binds fail.
import { readFileSync } from "node:fs";
import type { PortRange } from "../config/ranges.ts";
import { parseRange } from "../config/ranges.ts";

export interface ProcFiles {
  /** Contents of /proc/sys/net/ipv4/ip_local_port_range, e.g. "32768\t60999". */
  localPortRange: string;
  /** Contents of /proc/sys/net/ipv4/ip_local_reserved_ports, e.g. "30000-39999,40000". */
  reservedPorts: string;
}

export function readProcFiles(): ProcFiles | undefined {
  try {
    return {
      localPortRange: readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8"),
      reservedPorts: readFileSync("/proc/sys/net/ipv4/ip_local_reserved_ports", "utf8"),
    };
  } catch {
    return undefined; // not Linux, or /proc hidden: nothing to check
  }
}

/** Pool ranges that fall in the ephemeral range and are not reserved; empty when all is well. */
export function unreservedEphemeral(pool: PortRange[], proc: ProcFiles): PortRange[] {
  const [low, high] = proc.localPortRange.trim().split(/\s+/).map(Number);
  if (low === undefined || high === undefined || !Number.isInteger(low) || !Number.isInteger(high)) return [];
  const reserved = new Uint8Array(65536);
  for (const part of proc.reservedPorts.trim().split(",")) {
    if (part === "") continue;
    const range = parseRange(part);
    if (typeof range !== "string") reserved.fill(1, range.from, range.to + 1);
  }
  const out: PortRange[] = [];
  for (const range of pool) {
    for (let port = Math.max(range.from, low); port <= Math.min(range.to, high); port++) {
      if (reserved[port]) continue;
      const last = out.at(-1);
      if (last && last.to === port - 1) last.to = port;
      else out.push({ from: port, to: port });
    }
  }
  return out;
}
