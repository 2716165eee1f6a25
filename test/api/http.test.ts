import { describe, expect, test } from "bun:test";
import { json, startTestDaemon } from "../support/daemon.ts";
import { makeTestCert } from "../support/tls.ts";

describe("HTTP rules of the API", () => {
  test("unknown path: 404 whatever the method, with an errormessage", async () => {
    await using d = await startTestDaemon();
    for (const method of ["GET", "POST", "PUT", "DELETE"]) {
      const response = await fetch(`${d.url}/api/v2/nothing`, { method });
      expect(response.status).toBe(404);
      const body = await json(response);
      expect(body.status).toBe("error");
      expect(body.errormessage).toContain("/api/v2/nothing");
      expect(typeof body.timestamp).toBe("number");
    }
  });

  test("known path with the wrong method: 405", async () => {
    await using d = await startTestDaemon();
    for (const method of ["GET", "PUT", "DELETE", "PATCH"]) {
      const response = await fetch(`${d.url}/api/v2/status`, { method });
      expect(response.status).toBe(405);
      expect((await json(response)).errormessage).toContain("POST");
    }
  });

  test("a body over 64 KiB: 413, declared or streamed, and nothing changes", async () => {
    await using d = await startTestDaemon();
    const big = "mapping=" + "x".repeat(70 * 1024);
    const declared = await fetch(`${d.url}/api/v2/mapping/add`, { method: "POST", body: big, headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(declared.status).toBe(413);
    expect((await json(declared)).errormessage).toContain("64 KiB");
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 80; i++) controller.enqueue(new TextEncoder().encode("x".repeat(1024)));
        controller.close();
      },
    });
    const streamed = await fetch(`${d.url}/api/v2/mapping/add`, { method: "POST", body: stream });
    expect(streamed.status).toBe(413);
    expect(d.daemon.service.count).toBe(0);
  });

  test("a JSON body that is not an object, or not JSON: 400", async () => {
    await using d = await startTestDaemon();
    for (const body of ["[1]", "\"text\"", "{nope", "null"]) {
      const response = await fetch(`${d.url}/api/v2/mapping/add`, { method: "POST", body, headers: { "content-type": "application/json" } });
      expect(response.status).toBe(400);
      expect((await json(response)).errormessage.length).toBeGreaterThan(0);
    }
  });

  test("bad percent-encoding and unicode in a form body are plain bad input", async () => {
    await using d = await startTestDaemon();
    for (const body of ["mapping=%zz%", "mapping=%E2%82", "mapping=ünï€ødé", "mappingid=%00"]) {
      const response = await fetch(`${d.url}/api/v2/mapping/add`, { method: "POST", body, headers: { "content-type": "application/x-www-form-urlencoded" } });
      expect(response.status).toBe(400);
    }
  });

  test("trailing slash is the same endpoint", async () => {
    await using d = await startTestDaemon();
    expect((await d.post("/api/v2/status/", { mappingid: "all" })).status).toBe(200);
  });
});

describe("HTTPS outside dev mode", () => {
  test("the API speaks TLS with the configured certificate and refuses plain HTTP", async () => {
    using cert = makeTestCert();
    await using d = await startTestDaemon({ dev: false, certFile: cert.certFile, keyFile: cert.keyFile });
    expect(d.url.startsWith("https://")).toBe(true);
    const response = await fetch(`${d.url}/api/v2/status`, {
      method: "POST",
      body: "mappingid=all",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      tls: { ca: cert.cert },
    } as RequestInit);
    expect((await json(response)).status).toBe("running");
    const plain = await fetch(d.url.replace("https", "http") + "/api/v2/status", { method: "POST", body: "mappingid=all" }).then(
      (r) => r.status,
      () => "refused",
    );
    expect(plain).not.toBe(200);
  });

  test("a missing, mismatched or expired certificate stops the start with a clear message", async () => {
    using cert = makeTestCert();
    using other = makeTestCert();
    const cases: [Record<string, string>, string][] = [
      [{ certFile: "/nonexistent/cert.pem", keyFile: cert.keyFile }, "does not exist"],
      [{ certFile: cert.certFile, keyFile: other.keyFile }, "does not belong to the certificate"],
      [{ certFile: cert.keyFile, keyFile: cert.keyFile }, "does not hold a PEM certificate"],
    ];
    for (const [files, message] of cases) {
      const error = await startTestDaemon({ dev: false, ...files }).then(
        async (d) => {
          await d[Symbol.asyncDispose]();
          return undefined;
        },
        (e: Error) => e,
      );
      expect(error?.message).toContain(message);
    }
  });
});
