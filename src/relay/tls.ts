// The relay's TLS settings: one secure context shared by every connection, AEAD suites only.
import type * as NodeTls from "node:tls";
import type { TlsMaterial } from "./types.ts";

/**
 * TLS 1.2 suites whose records have a fixed overhead, so that record lengths give plaintext lengths
 * (records.ts); CBC suites are not offered. TLS 1.3 suites are all AEAD. Go's defaults are among these.
 */
const TLS12_CIPHERS = [
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305",
].join(":");

/** What `socket.upgradeTLS({ tls })` takes: built once per certificate, not once per connection. */
export type ServerTls = Record<string, unknown>;

export function serverTls(material: TlsMaterial): ServerTls {
  // Loaded when first needed: a dev-mode (plain TCP) daemon never is, and loading it costs about 2 ms of its start.
  const tls = require("node:tls") as typeof NodeTls;
  const context = tls.createSecureContext({ cert: material.cert, key: material.key, ciphers: TLS12_CIPHERS, minVersion: "TLSv1.2" });
  // Bun's upgradeTLS takes the native context that node:tls wraps.
  return { secureContext: (context as unknown as { context: unknown }).context };
}
