// Loads the certificate and key for non-dev mode and says plainly what is wrong with them.
import { createPrivateKey, X509Certificate } from "node:crypto";
import { ConnectorError } from "../errors.ts";
import { readRegular, whyUnusable } from "../regular-file.ts";
import type { TlsMaterial } from "../relay/types.ts";

export interface TlsCheck {
  material: TlsMaterial;
  /** Milliseconds since the epoch when the certificate expires. */
  validTo: number;
}

/** Reads and checks the PEM pair; every failure is a ConnectorError("tls") naming the file. */
export function loadTls(certFile: string, keyFile: string, now = Date.now()): TlsCheck {
  const cert = readPem(certFile, "certificate");
  const key = readPem(keyFile, "private key");
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    throw new ConnectorError("tls", `The certificate file ${certFile} does not hold a PEM certificate.`);
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new ConnectorError("tls", `The key file ${keyFile} does not hold an unencrypted PEM private key.`);
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw new ConnectorError("tls", `The key in ${keyFile} does not belong to the certificate in ${certFile}.`);
  }
  const validTo = Date.parse(x509.validTo);
  if (validTo <= now) throw new ConnectorError("tls", `The certificate in ${certFile} expired on ${x509.validTo}.`);
  const validFrom = Date.parse(x509.validFrom);
  if (validFrom > now) throw new ConnectorError("tls", `The certificate in ${certFile} is not valid before ${x509.validFrom}.`);
  return { material: { cert, key }, validTo };
}

function readPem(file: string, what: string): string {
  try {
    return readRegular(file);
  } catch (error) {
    throw new ConnectorError("tls", `The ${what} file ${file} ${whyUnusable(error)}; non-dev mode needs it for HTTPS and TLS on the relay ports.`);
  }
}
