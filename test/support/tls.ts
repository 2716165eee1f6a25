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
