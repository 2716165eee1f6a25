// Who may call what: commandline only from this machine, mapping and direct calls only from allowed Controllers.
import { BlockList, isIPv4 } from "node:net";
import type { Cidr } from "../config/schema.ts";

/** Strips the IPv4-mapped prefix so "::ffff:10.0.0.1" matches rules written for 10.0.0.1. */
export function normalizeIp(address: string): string {
  return address.toLowerCase().startsWith("::ffff:") && isIPv4(address.slice(7)) ? address.slice(7) : address;
}

export function isLoopback(address: string): boolean {
  const ip = normalizeIp(address);
  return ip === "::1" || (isIPv4(ip) && ip.startsWith("127."));
}

export interface AccessList {
  allows(address: string): boolean;
}

/** Undefined rules allow anyone, as the 1.x Connector did. */
export function createAccessList(rules: Cidr[] | undefined): AccessList {
  if (rules === undefined) return { allows: () => true };
  const list = new BlockList();
  for (const rule of rules) list.addSubnet(rule.address, rule.prefix, rule.family);
  return {
    allows(address) {
      const ip = normalizeIp(address);
      return list.check(ip, isIPv4(ip) ? "ipv4" : "ipv6");
    },
  };
}
