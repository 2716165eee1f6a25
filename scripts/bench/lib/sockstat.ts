// TCP sockets in use on the machine, listeners included, IPv4 and IPv6: a 0.1 ms read, cheap enough to poll while 18,000 listeners bind.
import { readFileSync } from "node:fs";

function inUse(file: string, label: string): number {
  try {
    const match = new RegExp(`${label}: inuse (\\d+)`).exec(readFileSync(file, "utf8"));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0; // no IPv6 on this machine
  }
}

export function tcpSocketsInUse(): number {
  return inUse("/proc/net/sockstat", "TCP") + inUse("/proc/net/sockstat6", "TCP6");
}
