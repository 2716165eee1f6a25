// Detects pool ports inside the kernel's ephemeral range: outgoing connections can hold them, so binds fail.
import type { PortRange } from "../config/ranges.ts";
import { parseRange } from "../config/ranges.ts";
import { readOptional } from "../read-optional.ts";

export interface ProcFiles {
  /** Contents of /proc/sys/net/ipv4/ip_local_port_range, e.g. "32768\t60999". */
  localPortRange: string;
  /** Contents of /proc/sys/net/ipv4/ip_local_reserved_ports, e.g. "30000-39999,40000". */
  reservedPorts: string;
}

/** Undefined when not on Linux or /proc is hidden: then there is nothing to check. */
export function readProcFiles(): ProcFiles | undefined {
  const localPortRange = readOptional("/proc/sys/net/ipv4/ip_local_port_range");
  const reservedPorts = readOptional("/proc/sys/net/ipv4/ip_local_reserved_ports");
  return localPortRange === undefined || reservedPorts === undefined ? undefined : { localPortRange, reservedPorts };
}

/** Pool ranges that fall in the ephemeral range and are not reserved; empty when all is well. */
export function unreservedEphemeral(pool: PortRange[], proc: ProcFiles): PortRange[] {
  const [low, high] = proc.localPortRange.trim().split(/\s+/).map(Number);
  if (low === undefined || high === undefined || !Number.isInteger(low) || !Number.isInteger(high)) return [];
  const reserved: PortRange[] = [];
  for (const part of proc.reservedPorts.trim().split(",")) {
    const range = part === "" ? "" : parseRange(part);
    if (typeof range !== "string") reserved.push(range);
  }
  reserved.sort((a, b) => a.from - b.from);
  const out: PortRange[] = [];
  for (const range of pool) {
    // The part of this pool range inside the ephemeral range, minus the reserved ranges (sorted).
    let from = Math.max(range.from, low);
    const to = Math.min(range.to, high);
    for (const r of reserved) {
      if (from > to) break;
      if (r.to < from || r.from > to) continue;
      if (r.from > from) out.push({ from, to: r.from - 1 });
      from = Math.max(from, r.to + 1);
    }
    if (from <= to) out.push({ from, to });
  }
  return out;
}
