// A self-signed certificate for 127.0.0.1/localhost, made with openssl at test time.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCert {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
  dir: string;
  [Symbol.dispose](): void;
}

/** Generates a fresh EC key and certificate valid for 127.0.0.1, ::1 and localhost. */
export function makeTestCert(options: { days?: number; /** More IP addresses it is valid for. */ ips?: string[] } = {}): TestCert {
  const dir = mkdtempSync(join(tmpdir(), "iofog-cert-"));
  const certFile = join(dir, "server-cert.pem");
  const keyFile = join(dir, "server-key.pem");
  const result = Bun.spawnSync([
    "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
    "-nodes", "-keyout", keyFile, "-out", certFile, "-days", String(options.days ?? 2),
    "-subj", "/CN=localhost",
    "-addext", `subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost${(options.ips ?? []).map((ip) => `,IP:${ip}`).join("")}`,
  ]);
  if (result.exitCode !== 0) throw new Error(`openssl failed: ${result.stderr.toString()}`);
  return {
    cert: readFileSync(certFile, "utf8"),
    key: readFileSync(keyFile, "utf8"),
    certFile,
    keyFile,
    dir,
    [Symbol.dispose]() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TestCa {
  caFile: string;
  /** A certificate and key signed by the CA: `server` valid for 127.0.0.1, `client` for client authentication. */
  server: { certFile: string; keyFile: string };
  client: { certFile: string; keyFile: string };
  dir: string;
  [Symbol.dispose](): void;
}

/** A CA and two certificates it signed, for mutual TLS (etcd's clients), made with openssl at test time. */
export function makeTestCa(): TestCa {
  const dir = mkdtempSync(join(tmpdir(), "iofog-ca-"));
  const file = (name: string) => join(dir, name);
  const run = (args: string[]) => {
    const result = Bun.spawnSync(["openssl", ...args], { cwd: dir });
    if (result.exitCode !== 0) throw new Error(`openssl ${args[0]} failed: ${result.stderr.toString()}`);
  };
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  run(["req", "-x509", ...ec, "-keyout", "ca-key.pem", "-out", "ca.pem", "-days", "2", "-subj", "/CN=iofog test CA"]);
  const signed = (name: string, extensions: string) => {
    run(["req", ...ec, "-keyout", `${name}-key.pem`, "-out", `${name}.csr`, "-subj", `/CN=${name}`]);
    Bun.write(file(`${name}.ext`), extensions);
    run(["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial", "-out", `${name}.pem`, "-days", "2", "-extfile", `${name}.ext`]);
    return { certFile: file(`${name}.pem`), keyFile: file(`${name}-key.pem`) };
  };
  try {
    return {
      caFile: file("ca.pem"),
      // etcd's JSON gateway dials etcd itself with this certificate, so it serves as a client certificate too.
      server: signed("server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n"),
      client: signed("client", "extendedKeyUsage=clientAuth\n"),
      dir,
      [Symbol.dispose]() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
