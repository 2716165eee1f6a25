// What the daemon tells the operator at start and reload about the machine it runs on: a certificate near expiry,
// pool ports the kernel may hand out as ephemeral ports.
import type { Clock } from "../clock.ts";
import { formatRange, type PortRange } from "../config/ranges.ts";
import type { Logger } from "../log.ts";
import { unreservedEphemeral, type ProcFiles } from "../ports/ephemeral.ts";

export function warnExpiry(validTo: number, file: string, clock: Clock, log: Logger): void {
  if (validTo - clock.now() < 30 * 86_400_000) log.warn(`The certificate in ${file} expires on ${new Date(validTo).toISOString()}.`);
}

export function warnEphemeral(pool: PortRange[], proc: ProcFiles | undefined, log: Logger): void {
  if (proc === undefined) return;
  const overlap = unreservedEphemeral(pool, proc);
  if (overlap.length === 0) return;
  const count = overlap.reduce((sum, r) => sum + r.to - r.from + 1, 0);
  const list = overlap.map(formatRange).join(",");
  const shown = list.length > 200 ? `${list.slice(0, 200)}…` : list;
  log.warn(
    `${count} pool ports (${shown}) lie in the kernel's ephemeral port range (${proc.localPortRange.trim().replace(/\s+/, "-")}) ` +
      "and are not reserved: outgoing connections may hold them, and mappings then skip them. " +
      `Reserve them: sysctl -w net.ipv4.ip_local_reserved_ports=${list.length > 200 ? "<the ranges above>" : list} (see the README).`,
  );
}
