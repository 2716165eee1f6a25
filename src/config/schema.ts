// The settings file's schema: the 1.x fields as operators wrote them, plus the optional additions.
import * as v from "valibot";
import { isIP } from "node:net";
import { LOG_LEVELS } from "../log.ts";
import { parseRange, type PortRange } from "./ranges.ts";

const Port = v.pipe(v.number("must be a whole number"), v.integer("must be a whole number"), v.minValue(1, "must be 1-65535"), v.maxValue(65535, "must be 1-65535"));

const Range = v.pipe(
  v.string('must be a string such as "7000" or "7000-7002"'),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const range = parseRange(dataset.value);
    if (typeof range === "string") {
      addIssue({ message: range });
      return NEVER;
    }
    return range;
  }),
);

const Ranges = v.array(Range, "must be an array of strings");

/** A path in the settings file; relative ones resolve next to that file. */
const PathField = v.pipe(v.string("must be a path"), v.nonEmpty("must not be empty"));

/** An IPv4/IPv6 address, optionally with a /prefix. */
export const Cidr = v.pipe(
  v.string("must be an IP address or CIDR"),
  v.check((text) => parseCidr(text) !== undefined, "must be an IP address or CIDR such as 10.0.0.0/8"),
);

export const Settings = v.object({
  ports: v.pipe(Ranges, v.minLength(1, "must list at least one port or range")),
  exclude: v.optional(Ranges, []),
  broker: Port,
  address: v.pipe(v.string("must be an IP address or host name"), v.nonEmpty("must not be empty")),
  dev: v.optional(v.boolean("must be true or false"), false),
  apiPort: v.optional(Port),
  metricsPort: v.optional(Port),
  metricsPerMappingRejects: v.optional(v.boolean("must be true or false"), false),
  stateFile: v.optional(PathField),
  certFile: v.optional(PathField),
  keyFile: v.optional(PathField),
  logDir: v.optional(PathField),
  allowedControllers: v.optional(v.array(Cidr, "must be an array of IP addresses or CIDRs")),
  logLevel: v.optional(v.picklist(LOG_LEVELS, `must be one of ${LOG_LEVELS.join(", ")}`), "info"),
  logFormat: v.optional(v.picklist(["text", "json"], "must be text or json"), "text"),
});

/** The settings file after validation, before paths are resolved. */
export type SettingsInput = v.InferOutput<typeof Settings>;
export type { PortRange };

export interface Cidr {
  address: string;
  prefix: number;
  family: "ipv4" | "ipv6";
}

/** Parses "10.0.0.0/8", "::1" or "192.168.1.7"; undefined when it is neither. */
export function parseCidr(text: string): Cidr | undefined {
  const [address = "", prefixText, ...rest] = text.trim().split("/");
  if (rest.length > 0) return undefined;
  const version = isIP(address);
  if (version === 0) return undefined;
  const bits = version === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (prefix > bits) return undefined;
  return { address, prefix, family: version === 4 ? "ipv4" : "ipv6" };
}
