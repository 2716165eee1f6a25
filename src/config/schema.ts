// The settings file's schema: the 1.x fields as operators wrote them, plus the optional additions.
import * as v from "valibot";
import { isIP } from "node:net";
import { LOG_LEVELS } from "../log.ts";
import { record } from "./issues.ts";
import { parseRange, type PortRange } from "./ranges.ts";

const PORT_RULE = "a port number from 1 to 65535";
const Port = v.pipe(v.number(PORT_RULE), v.integer(PORT_RULE), v.minValue(1, PORT_RULE), v.maxValue(65535, PORT_RULE));

const RANGE_RULE = 'a port "N" or a port range "A-B" as text';
const Range = v.pipe(
  v.string(RANGE_RULE),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const range = parseRange(dataset.value);
    if (typeof range === "string") {
      addIssue({ message: range });
      return NEVER;
    }
    return range;
  }),
);

const RANGES_RULE = 'an array of ports "N" and port ranges "A-B"';
const Ranges = v.array(Range, RANGES_RULE);

/** A path in the settings file; relative ones resolve next to that file. */
const PathField = (what: string) => v.pipe(v.string(`${what} as text`), v.nonEmpty(`${what} as text`));

const CIDR_RULE = 'an IP address or CIDR such as "10.0.0.0/8"';
/** An IPv4/IPv6 address, optionally with a /prefix. */
export const Cidr = v.pipe(v.string(CIDR_RULE), v.check((text) => parseCidr(text) !== undefined, CIDR_RULE));

const LEVELS_RULE = `one of ${LOG_LEVELS.map((level) => `"${level}"`).join(", ")}`;

/** The most direct-connection records kept at once, unless `maxDirects` says otherwise. */
export const DEFAULT_MAX_DIRECTS = 10_000;
const DIRECTS_RULE = "a whole number from 1 to 1000000";
/** The most relay threads a settings file may ask for. */
export const MAX_RELAY_THREADS = 256;
const THREADS_RULE = `a whole number from 0 (relay on the control thread) to ${MAX_RELAY_THREADS}`;

const URL_RULE = 'an etcd client URL such as "http://10.0.0.1:2379"';
const EtcdUrl = v.pipe(v.string(URL_RULE), v.regex(/^https?:\/\/[^\s/]+\/?$/, URL_RULE), v.transform((url) => url.replace(/\/$/, "")));
const PREFIX_RULE = 'a key prefix as text ending in "/", such as "/iofog-connector/site-1/"';
const NAME_RULE = "a member name as text, without \"/\"";

/** Shared state in etcd for Connectors behind one floating address (README, "High availability"). */
const Cluster = record({
  etcd: v.pipe(v.array(EtcdUrl, `an array of etcd client URLs such as ["http://10.0.0.1:2379"]`), v.minLength(1, "an array of etcd client URLs, at least one")),
  prefix: v.pipe(v.string(PREFIX_RULE), v.regex(/^\S+\/$/, PREFIX_RULE)),
  member: v.optional(v.pipe(v.string(NAME_RULE), v.regex(/^[^/\s]+$/, NAME_RULE))),
  caFile: v.optional(PathField("a file path")),
  certFile: v.optional(PathField("a file path")),
  keyFile: v.optional(PathField("a file path")),
}, "a JSON object with etcd and prefix");

export const Settings = record({
  ports: v.pipe(Ranges, v.minLength(1, `${RANGES_RULE}, at least one`)),
  exclude: v.optional(Ranges, []),
  broker: Port,
  apiPort: v.optional(Port),
  metricsPort: v.optional(Port),
  address: v.pipe(v.string("an IP address or host name as text"), v.nonEmpty("an IP address or host name as text")),
  dev: v.optional(v.boolean("true or false"), false),
  metricsPerMappingRejects: v.optional(v.boolean("true or false"), false),
  stateFile: v.optional(PathField("a file path")),
  certFile: v.optional(PathField("a file path")),
  keyFile: v.optional(PathField("a file path")),
  logDir: v.optional(PathField("a directory path")),
  allowedControllers: v.optional(v.array(Cidr, `an array of IP addresses or CIDRs such as ["10.0.0.0/8"]`)),
  logLevel: v.optional(v.picklist(LOG_LEVELS, LEVELS_RULE), "info"),
  logFormat: v.optional(v.picklist(["text", "json"], '"text" or "json"'), "text"),
  maxDirects: v.optional(v.pipe(v.number(DIRECTS_RULE), v.integer(DIRECTS_RULE), v.minValue(1, DIRECTS_RULE), v.maxValue(1_000_000, DIRECTS_RULE)), DEFAULT_MAX_DIRECTS),
  relayThreads: v.optional(v.pipe(v.number(THREADS_RULE), v.integer(THREADS_RULE), v.minValue(0, THREADS_RULE), v.maxValue(MAX_RELAY_THREADS, THREADS_RULE))),
  cluster: v.optional(Cluster),
}, "a JSON object");

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
