// Reads the settings file, validates it once, and resolves every path and default from it.
import { hostname } from "node:os";
import { dirname, resolve } from "node:path";
import * as v from "valibot";
import { ConnectorError } from "../errors.ts";
import { readRegular, whyUnusable } from "../regular-file.ts";
import type { LogFormat, LogLevelName } from "../log.ts";
import { parseCidr, Settings as SettingsSchema, type Cidr, type PortRange } from "./schema.ts";
import { describeIssue } from "./issues.ts";

export const DEFAULT_SETTINGS_FILE = "/etc/iofog-connector/iofog-connector.conf";
export const DEFAULT_LOG_DIR = "/var/log/iofog-connector";
export const CONFIG_ENV = "IOFOG_CONNECTOR_CONFIG";

/** Settings as the rest of the Connector uses them: validated, with every path absolute. */
export interface Settings {
  file: string;
  ports: PortRange[];
  exclude: PortRange[];
  broker: number;
  address: string;
  dev: boolean;
  apiPort: number;
  /** Also serve GET /metrics in plain HTTP on 127.0.0.1 at this port. */
  metricsPort?: number;
  /** List rejects and heartbeat timeouts per port (where not zero) besides their totals in /metrics. */
  metricsPerMappingRejects?: boolean;
  stateFile: string;
  certFile: string;
  keyFile: string;
  logDir: string;
  /** The most direct-connection records kept at once (default 10,000). */
  maxDirects?: number;
  /** Undefined: anyone may call the mapping and direct endpoints. */
  allowedControllers?: Cidr[];
  logLevel: LogLevelName;
  logFormat: LogFormat;
  /** Relay threads; 0: the control thread relays; undefined: one per core. */
  relayThreads?: number;
  /** Shared state in etcd; undefined: this Connector keeps its mappings alone. */
  cluster?: ClusterSettings;
}

export interface ClusterSettings {
  /** Client URLs of the etcd members, without a trailing "/". */
  etcd: string[];
  /** Every key of this cluster starts with it; it ends in "/". */
  prefix: string;
  /** This member's name (its lease key); the host name unless set. */
  member: string;
  /** Absolute paths; a CA to check etcd's certificate, a certificate and key to authenticate to it. */
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

/** `--config`, else the environment variable, else the packaged location. */
export function settingsPath(flag: string | undefined, env: Record<string, string | undefined> = process.env): string {
  return resolve(flag || env[CONFIG_ENV] || DEFAULT_SETTINGS_FILE);
}

/** Loads and validates a settings file; every failure is a ConnectorError("config") naming the file and field. */
export function loadSettings(path: string): Settings {
  const file = resolve(path);
  let text: string;
  try {
    text = readRegular(file);
  } catch (error) {
    throw new ConnectorError("config", `Settings file ${file} ${whyUnusable(error)}.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConnectorError("config", `Settings file ${file} is not valid JSON: ${(error as Error).message}.`);
  }
  return parseSettings(json, file);
}

/** Validates already-parsed settings; `file` names the source in messages and anchors relative paths. */
export function parseSettings(json: unknown, file: string): Settings {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new ConnectorError("config", `Settings file ${file} must hold a JSON object such as {"ports":["30000-39999"],"broker":12345,"address":"127.0.0.1"}.`);
  }
  const parsed = v.safeParse(SettingsSchema, json);
  if (!parsed.success) {
    throw new ConnectorError("config", `Settings file ${file}: ${describeIssue(parsed.issues[0], "the settings")}.`);
  }
  const input = parsed.output;
  if (input.cluster && (input.cluster.certFile === undefined) !== (input.cluster.keyFile === undefined)) {
    throw new ConnectorError("config", `Settings file ${file}: cluster.certFile and cluster.keyFile go together; give both or neither.`);
  }
  const dir = dirname(file);
  const at = (path: string | undefined, fallback: string) => resolve(dir, path ?? fallback);
  return {
    file,
    ports: input.ports,
    exclude: input.exclude,
    broker: input.broker,
    address: input.address,
    dev: input.dev,
    apiPort: input.apiPort ?? (input.dev ? 8080 : 443),
    metricsPort: input.metricsPort,
    metricsPerMappingRejects: input.metricsPerMappingRejects,
    stateFile: at(input.stateFile, "configs.json"),
    certFile: at(input.certFile, "server-cert.pem"),
    keyFile: at(input.keyFile, "server-key.pem"),
    logDir: at(input.logDir, DEFAULT_LOG_DIR),
    allowedControllers: input.allowedControllers?.map((text) => parseCidr(text)!),
    logLevel: input.logLevel,
    logFormat: input.logFormat,
    maxDirects: input.maxDirects,
    relayThreads: input.relayThreads,
    cluster: input.cluster && {
      etcd: input.cluster.etcd,
      prefix: input.cluster.prefix,
      member: input.cluster.member ?? hostname(),
      caFile: input.cluster.caFile && resolve(dir, input.cluster.caFile),
      certFile: input.cluster.certFile && resolve(dir, input.cluster.certFile),
      keyFile: input.cluster.keyFile && resolve(dir, input.cluster.keyFile),
    },
  };
}
