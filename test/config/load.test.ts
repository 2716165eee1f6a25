import { describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { CONFIG_ENV, DEFAULT_SETTINGS_FILE, loadSettings, settingsPath } from "../../src/config/load.ts";
import { ConnectorError } from "../../src/errors.ts";
import { thrown } from "../support/thrown.ts";

const here = import.meta.dir;

/** The exact sentence each invalid file is refused with, after "Settings file <path>" (empty: the file as a whole). */
const blamed: Record<string, string> = {
  "truncated-json.conf": " is not valid JSON: JSON Parse error: Expected '}'.",
  "missing-ports.conf": ': ports is missing; it must be an array of ports "N" and port ranges "A-B".',
  "missing-broker.conf": ": broker is missing; it must be a port number from 1 to 65535.",
  "missing-address.conf": ": address is missing; it must be an IP address or host name as text.",
  "port-too-high.conf": ': ports[0] must be a port range within 1-65535 (got "6000-70000").',
  "port-zero.conf": ': ports[0] must be a port range within 1-65535 (got "0-10").',
  "range-reversed.conf": ': ports[0] must be a port range "A-B" with A not above B (got "7000-6000").',
  "port-not-string.conf": ': ports[0] must be a port "N" or a port range "A-B" as text (got 6000).',
  "ports-not-array.conf": ': ports must be an array of ports "N" and port ranges "A-B" (got "6000-6001").',
  "exclude-garbage.conf": ': exclude[0] must be a port "N" or a port range "A-B" (got "abc").',
  "broker-not-number.conf": ': broker must be a port number from 1 to 65535 (got "12345x").',
  "broker-too-high.conf": ": broker must be a port number from 1 to 65535 (got 123456).",
  "dev-string.conf": ': dev must be true or false (got "true").',
  "metrics-rejects-string.conf": ': metricsPerMappingRejects must be true or false (got "yes").',
  "apiport-fraction.conf": ": apiPort must be a port number from 1 to 65535 (got 1.5).",
  "cidr-bad-prefix.conf": ': allowedControllers[0] must be an IP address or CIDR such as "10.0.0.0/8" (got "10.0.0.0/33").',
  "loglevel-unknown.conf": ': logLevel must be one of "error", "warn", "info", "debug" (got "loud").',
  "not-an-object.conf": ' must hold a JSON object such as {"ports":["30000-39999"],"broker":12345,"address":"127.0.0.1"}.',
  "empty.conf": " is not valid JSON: JSON Parse error: Unexpected EOF.",
  "maxdirects-zero.conf": ": maxDirects must be a whole number from 1 to 1000000 (got 0).",
  "address-empty.conf": ': address must be an IP address or host name as text (got "").',
  "logformat-number.conf": ': logFormat must be "text" or "json" (got 1).',
  "statefile-empty.conf": ': stateFile must be a file path as text (got "").',
  "relaythreads-fraction.conf": ": relayThreads must be a whole number from 0 (relay on the control thread) to 256 (got 1.5).",
  "cluster-prefix-no-slash.conf": ': cluster.prefix must be a key prefix as text ending in "/", such as "/iofog-connector/site-1/" (got "/x").',
  "cluster-etcd-empty.conf": ": cluster.etcd must be an array of etcd client URLs, at least one (got []).",
  "cluster-etcd-no-scheme.conf": ': cluster.etcd[0] must be an etcd client URL such as "http://10.0.0.1:2379" (got "10.0.0.1:2379").',
  "cluster-cert-without-key.conf": ": cluster.certFile and cluster.keyFile go together; give both or neither.",
  "ports-empty.conf": ': ports must be an array of ports "N" and port ranges "A-B", at least one (got []).',
};

describe("valid settings files load unchanged", () => {
  for (const name of readdirSync(join(here, "valid"))) {
    test(name, () => {
      const settings = loadSettings(join(here, "valid", name));
      expect(settings.ports.length).toBeGreaterThan(0);
      expect(settings.broker).toBe(12345);
    });
  }

  test("the seed example: ranges, exclude, dev mode API port and defaults next to the file", () => {
    const file = join(here, "valid", "seed-connector-readme.conf");
    const s = loadSettings(file);
    expect(s.ports).toEqual([{ from: 6000, to: 6001 }, { from: 7000, to: 7002 }, { from: 30000, to: 39999 }, { from: 40000, to: 49999 }]);
    expect(s.exclude).toEqual([{ from: 7001, to: 7001 }]);
    expect(s.dev).toBe(true);
    expect(s.apiPort).toBe(8080);
    expect(s.address).toBe("127.0.0.1");
    expect(s.stateFile).toBe(join(here, "valid", "configs.json"));
    expect(s.certFile).toBe(join(here, "valid", "server-cert.pem"));
    expect(s.logDir).toBe("/var/log/iofog-connector");
    expect(s.allowedControllers).toBeUndefined();
    expect(s.maxDirects).toBe(10_000);
    expect(s.relayThreads).toBeUndefined();
  });

  test("without dev the API is HTTPS on 443", () => {
    const s = loadSettings(join(here, "valid", "seed-setup-guide.conf"));
    expect(s.dev).toBe(false);
    expect(s.apiPort).toBe(443);
  });

  test("optional fields, with relative paths resolved next to the file", () => {
    const s = loadSettings(join(here, "valid", "all-optional-fields.conf"));
    expect(s.apiPort).toBe(8443);
    expect(s.stateFile).toBe(join(here, "valid", "state/configs.json"));
    expect(s.certFile).toBe(join(here, "valid", "tls/cert.pem"));
    expect(s.keyFile).toBe("/etc/ssl/private/connector.pem");
    expect(s.logDir).toBe(join(here, "valid", "logs"));
    expect(s.allowedControllers?.map((c) => `${c.address}/${c.prefix}`)).toEqual(["10.0.0.0/8", "192.168.1.7/32", "::1/128", "fd00::/8"]);
    expect(s.logLevel).toBe("debug");
    expect(s.logFormat).toBe("json");
    expect(s.maxDirects).toBe(500);
    expect(s.relayThreads).toBe(0);
  });

  test("a cluster block: URLs without a trailing slash, member the host name, TLS paths next to the file", () => {
    const s = loadSettings(join(here, "valid", "cluster.conf"));
    expect(s.cluster).toEqual({
      etcd: ["https://10.0.0.1:2379", "https://10.0.0.2:2379", "https://10.0.0.3:2379"],
      prefix: "/iofog-connector/site-1/",
      member: hostname(),
      caFile: join(here, "valid", "etcd/ca.pem"),
      certFile: join(here, "valid", "etcd/client.pem"),
      keyFile: "/etc/ssl/private/etcd-client-key.pem",
    });
    expect(loadSettings(join(here, "valid", "seed-connector-readme.conf")).cluster).toBeUndefined();
  });
});

describe("invalid settings files are refused with one line naming the file and the field", () => {
  const files = readdirSync(join(here, "invalid"));
  test("every invalid file has an expectation", () => {
    expect(files.sort()).toEqual(Object.keys(blamed).sort());
  });
  for (const name of files) {
    test(name, () => {
      const file = join(here, "invalid", name);
      const error = thrown(() => loadSettings(file));
      expect(error).toBeInstanceOf(ConnectorError);
      const message = (error as ConnectorError).message;
      expect((error as ConnectorError).code).toBe("config");
      expect(message).toBe(`Settings file ${file}${blamed[name]!}`);
    });
  }

  test("a missing file says so", () => {
    expect(() => loadSettings("/nonexistent/iofog-connector.conf")).toThrow("/nonexistent/iofog-connector.conf does not exist");
  });
});

describe("choosing the settings file", () => {
  test("--config wins over the environment, which wins over the default", () => {
    expect(settingsPath("/a.conf", { [CONFIG_ENV]: "/b.conf" })).toBe("/a.conf");
    expect(settingsPath(undefined, { [CONFIG_ENV]: "/b.conf" })).toBe("/b.conf");
    expect(settingsPath(undefined, {})).toBe(DEFAULT_SETTINGS_FILE);
  });

  test("a relative --config resolves from the working directory", () => {
    const dir = mkdtempSync(join(tmpdir(), "iofog-settings-"));
    try {
      writeFileSync(join(dir, "c.conf"), '{"ports":["6000"],"broker":1,"address":"0.0.0.0","dev":true}');
      const s = loadSettings(join(dir, "c.conf"));
      expect(s.stateFile).toBe(join(dir, "configs.json"));
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});
