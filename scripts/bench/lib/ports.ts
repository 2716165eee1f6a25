// Loopback ports for the run: free ones for listeners, pool ranges that avoid ports already held and the kernel's ephemeral range.
import { readFileSync } from "node:fs";

/** Ports of every socket in LISTEN state on this machine (IPv4 and IPv6). */
export function listeningPorts(): Set<number> {
  const ports = new Set<number>();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(file, "latin1");
    } catch {
      continue; // no IPv6 on this machine
    }
    for (const line of text.split("\n")) {
      // "  sl  local_address rem_address   st ..." → local "0100007F:4E20", state "0A" = LISTEN
      const fields = line.trim().split(/\s+/);
      if (fields[3] !== "0A") continue;
      const local = fields[1];
      if (local) ports.add(parseInt(local.slice(local.lastIndexOf(":") + 1), 16));
    }
  }
  return ports;
}

/** How many listening sockets have a port within [from, to]. */
export function countListening(from: number, to: number): number {
  let count = 0;
  for (const port of listeningPorts()) if (port >= from && port <= to) count++;
  return count;
}

/** A port nothing listens on right now, picked by the kernel. */
export function freePort(): number {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

/** The first port the kernel may hand out to outgoing connections. */
export function ephemeralStart(): number {
  const [low] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/);
  return Number(low);
}

/** A pool for the Connector's settings: `from`-`to` less the ports something already listens on. */
export interface Pool {
  from: number;
  to: number;
  exclude: number[];
}

export function pool(from: number, to: number): Pool {
  const held = [...listeningPorts()].filter((p) => p >= from && p <= to).sort((a, b) => a - b);
  return { from, to, exclude: held };
}

/** The pool's usable ports in order. */
export function* poolPorts(p: Pool): Generator<number> {
  const skip = new Set(p.exclude);
  for (let port = p.from; port <= p.to; port++) if (!skip.has(port)) yield port;
}
