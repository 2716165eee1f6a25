// The Connector's REST API as the Controller calls it: form-encoded POSTs, JSON answers.

export interface Mapping {
  id: string;
  port1: number;
  port2: number;
  passcode1: string;
  passcode2: string;
}

export interface Api {
  /** Scheme, address and port of the API, e.g. http://127.0.0.1:8080. */
  readonly base: string;
  /** True once the daemon answers `status all`; false while it cannot be reached. */
  ping(): Promise<boolean>;
  addPublic(maxConnections: number): Promise<Mapping>;
  addPrivate(): Promise<Mapping>;
  remove(id: string): Promise<void>;
  post(path: string, fields: Record<string, string>): Promise<Record<string, unknown>>;
}

export function createApi(base: string): Api {
  const tls = base.startsWith("https:") ? { rejectUnauthorized: false } : undefined;
  const post = async (path: string, fields: Record<string, string>) => {
    const response = await fetch(`${base}${path}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields).toString(),
      tls,
      signal: AbortSignal.timeout(30_000),
    });
    const body = (await response.json()) as Record<string, unknown>;
    if (response.status !== 200 || body.errormessage !== undefined) {
      throw new Error(`${path} answered ${response.status}: ${String(body.errormessage ?? JSON.stringify(body))}`);
    }
    return body;
  };
  const add = async (mapping: object) => (await post("/api/v2/mapping/add", { mapping: JSON.stringify(mapping) })) as unknown as Mapping;
  return {
    base,
    async ping() {
      try {
        const body = await post("/api/v2/status", { mappingid: "all" });
        return body.status === "running";
      } catch {
        return false; // not listening yet
      }
    },
    addPublic: (maxConnections) => add({ type: "public", maxconnections: maxConnections, heartbeatabsencethreshold: 0 }),
    addPrivate: () =>
      add({ type: "private", maxconnectionsport1: 1, maxconnectionsport2: 1, heartbeatabsencethresholdport1: 0, heartbeatabsencethresholdport2: 0 }),
    async remove(id) {
      await post("/api/v2/mapping/remove", { mappingid: id });
    },
    post,
  };
}
