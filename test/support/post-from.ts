// A form POST sent from a chosen local address (127.0.0.2, ...), to test rules that depend on the caller's address.
import { request } from "node:http";

export function postFrom(localAddress: string, url: string, fields: Record<string, string>): Promise<{ status: number; body: any }> {
  const { promise, resolve, reject } = Promise.withResolvers<{ status: number; body: any }>();
  const target = new URL(url);
  const body = new URLSearchParams(fields).toString();
  const req = request(
    {
      host: target.hostname,
      port: Number(target.port),
      path: target.pathname,
      method: "POST",
      localAddress,
      headers: { "content-type": "application/x-www-form-urlencoded", "content-length": Buffer.byteLength(body) },
      timeout: 10_000,
    },
    (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    },
  );
  req.on("timeout", () => req.destroy(new Error("timed out")));
  req.on("error", reject);
  req.end(body);
  return promise;
}
