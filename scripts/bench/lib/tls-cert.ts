// A throwaway self-signed certificate for 127.0.0.1, made with openssl, for the TLS legs of every path.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface CertFiles {
  cert: string;
  key: string;
  /** Certificate and key in one file, as HAProxy's `crt` wants them. */
  combined: string;
}

export function makeCertificate(dir: string): CertFiles {
  const cert = join(dir, "server-cert.pem");
  const key = join(dir, "server-key.pem");
  const result = Bun.spawnSync(
    [
      "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
      "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
    ],
    { stdout: "ignore", stderr: "pipe", timeout: 20_000 },
  );
  if (result.exitCode !== 0) throw new Error(`openssl could not make a certificate: ${result.stderr.toString().trim()}`);
  const combined = join(dir, "haproxy.pem");
  writeFileSync(combined, readFileSync(cert, "utf8") + readFileSync(key, "utf8"));
  return { cert, key, combined };
}
