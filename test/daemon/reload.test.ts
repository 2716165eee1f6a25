import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { connect } from "node:tls";
import { startTestDaemon } from "../support/daemon.ts";
import { postFrom } from "../support/post-from.ts";
import { makeTestCert } from "../support/tls.ts";
import { tempDir } from "../support/temp-dir.ts";

/** The certificate's fingerprint as served on a port. */
function servedFingerprint(port: number): Promise<string> {
  const { promise, resolve, reject } = Promise.withResolvers<string>();
  const socket = connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
    resolve(socket.getPeerCertificate().fingerprint256);
    socket.end();
  });
  socket.setTimeout(10_000, () => socket.destroy(new Error("timed out")));
  socket.on("error", reject);
  return promise;
}

describe("reload (SIGHUP)", () => {
  test("allowedControllers and logLevel change without a restart; a bad file keeps the old values", async () => {
    using dir = tempDir();
    const file = dir.file("iofog-connector.conf");
    const base = { ports: ["20000-20010"], broker: 1, address: "127.0.0.1", dev: true };
    writeFileSync(file, JSON.stringify(base));
    await using d = await startTestDaemon({ file }, { dir: dir.path });
    const status = () => postFrom("127.0.0.1", `${d.url}/api/v2/status`, { mappingid: "all" }).then((r) => r.status);
    expect(await status()).toBe(200);

    writeFileSync(file, JSON.stringify({ ...base, allowedControllers: ["127.0.0.2"], logLevel: "warn" }));
    expect(d.daemon.reload()).toBe(true);
    expect(await status()).toBe(403);
    const before = d.lines.length;
    await d.post("/api/v2/direct/add", {}); // logs at info level, now below the threshold
    expect(d.lines.slice(before).some((line) => line.includes("direct rendezvous"))).toBe(false);

    writeFileSync(file, "{ not json");
    expect(d.daemon.reload()).toBe(false);
    expect(d.lines.at(-1)).toContain("Reload failed, the previous settings stay in force");
    expect(await status()).toBe(403);

    writeFileSync(file, JSON.stringify({ ...base, ports: ["20000-20020"] }));
    expect(d.daemon.reload()).toBe(true);
    expect(await status()).toBe(200);
    expect(d.lines.at(-1)).toContain("ports");
    expect(d.lines.at(-1)).toContain("take effect after a restart");
  });

  test("a new certificate is served on the API and on relay ports after reload; a mismatched pair is refused", async () => {
    using dir = tempDir();
    using first = makeTestCert();
    using second = makeTestCert();
    const file = dir.file("iofog-connector.conf");
    const base = { ports: ["20000-20010"], broker: 1, address: "127.0.0.1", dev: false };
    writeFileSync(file, JSON.stringify({ ...base, certFile: first.certFile, keyFile: first.keyFile }));
    await using d = await startTestDaemon({ file, dev: false, certFile: first.certFile, keyFile: first.keyFile }, { dir: dir.path });
    const port = d.daemon.apiPort;
    const original = await servedFingerprint(port);
    const mapping = (await d.post("/api/v2/mapping/add", { mapping: JSON.stringify({ type: "public", maxconnections: 1, heartbeatabsencethreshold: 0 }) })).body;
    expect(await servedFingerprint(mapping.port1)).toBe(original);

    writeFileSync(file, JSON.stringify({ ...base, certFile: second.certFile, keyFile: first.keyFile }));
    expect(d.daemon.reload()).toBe(false);
    expect(await servedFingerprint(port)).toBe(original);

    writeFileSync(file, JSON.stringify({ ...base, certFile: second.certFile, keyFile: second.keyFile }));
    expect(d.daemon.reload()).toBe(true);
    const renewed = await servedFingerprint(port);
    expect(renewed).not.toBe(original);
    // The relay thread serving the mapping takes the pair from the message the reload posted to it.
    const deadline = Date.now() + 5000;
    let relayed = await servedFingerprint(mapping.port1);
    while (relayed !== renewed && Date.now() < deadline) relayed = await servedFingerprint(mapping.port1);
    expect(relayed).toBe(renewed);
  });
});
