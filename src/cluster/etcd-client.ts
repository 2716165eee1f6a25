// etcd's v3 JSON gateway over fetch: range, txn, leases and the watch stream, trying each endpoint in turn.
import { ConnectorError } from "../errors.ts";

export interface EtcdTls {
  /** PEM texts; a CA alone checks the server, a certificate and key authenticate this client. */
  ca?: string;
  cert?: string;
  key?: string;
}

export interface EtcdClientOptions {
  endpoints: string[];
  tls?: EtcdTls;
  /** A request that takes longer fails over to the next endpoint. Default 2,000 ms. */
  timeoutMs?: number;
}

export interface KeyValue {
  key: string;
  value: string;
  modRevision: number;
}

/** One change seen by a watch. */
export interface WatchEvent {
  type: "put" | "delete";
  key: string;
  value: string;
}

export type Compare = { key: string; absent: true } | { key: string; present: true };
export type Operation = { put: string; value: string; lease?: string } | { delete: string } | { get: string };

export interface TxnResult {
  succeeded: boolean;
  revision: number;
  /** The values read by the `get` operations of the branch taken, in order; undefined for a key that is not there. */
  got: (string | undefined)[];
}

export interface EtcdClient {
  /** The endpoint that answered last; requests and the watch go there first. */
  readonly endpoint: string;
  /** Every key starting with `prefix`, and the revision they were read at (linearizable: needs a quorum). */
  range(prefix: string): Promise<{ revision: number; kvs: KeyValue[] }>;
  txn(compare: Compare[], success: Operation[], failure?: Operation[]): Promise<TxnResult>;
  grant(ttlSeconds: number): Promise<string>;
  /** Refreshes a lease; resolves its remaining TTL in seconds (0: it expired). */
  keepAlive(lease: string): Promise<number>;
  revoke(lease: string): Promise<void>;
  /** Changes under `prefix` from `fromRevision` on, batch by batch, with each batch's revision; ends when the stream does. */
  watch(prefix: string, fromRevision: number, signal: AbortSignal): AsyncGenerator<{ revision: number; events: WatchEvent[] }>;
}

const b64 = (text: string) => Buffer.from(text).toString("base64");
const unb64 = (text: string | undefined) => Buffer.from(text ?? "", "base64").toString();

/** The key just past every key that starts with `prefix`. */
export function prefixEnd(prefix: string): string {
  const bytes = Buffer.from(prefix);
  bytes[bytes.length - 1]!++;
  return bytes.toString();
}

const unreachable = (why: string) =>
  new ConnectorError("unavailable", `The cluster store (etcd) cannot be reached or has no quorum (${why}), so mappings cannot be changed now; open mappings keep relaying.`);

export function createEtcdClient(options: EtcdClientOptions): EtcdClient {
  const { endpoints, tls } = options;
  const timeoutMs = options.timeoutMs ?? 2000;
  let current = 0;

  /** Sends one request, to the endpoint that answered last, then to the others; an answer etcd refuses ends the attempt. */
  async function call(path: string, body: object): Promise<any> {
    let why = "no endpoint";
    for (let tried = 0; tried < endpoints.length; tried++) {
      const endpoint = endpoints[(current + tried) % endpoints.length]!;
      let response: Response;
      try {
        response = await fetch(`${endpoint}${path}`, { method: "POST", body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs), tls } as RequestInit);
      } catch (error) {
        why = `${endpoint}: ${error instanceof Error ? error.message : String(error)}`;
        continue;
      }
      const text = await response.text().catch(() => "");
      if (response.ok) {
        current = (current + tried) % endpoints.length;
        return JSON.parse(text);
      }
      why = `${endpoint}: ${errorOf(text) ?? `HTTP ${response.status}`}`;
    }
    throw unreachable(why);
  }

  const operation = (op: Operation) =>
    "put" in op ? { request_put: { key: b64(op.put), value: b64(op.value), ...(op.lease ? { lease: op.lease } : {}) } }
    : "delete" in op ? { request_delete_range: { key: b64(op.delete) } }
    : { request_range: { key: b64(op.get) } };
  const comparison = (c: Compare) =>
    "absent" in c ? { key: b64(c.key), target: "CREATE", result: "EQUAL", create_revision: "0" } : { key: b64(c.key), target: "CREATE", result: "GREATER", create_revision: "0" };

  return {
    get endpoint() {
      return endpoints[current]!;
    },
    async range(prefix) {
      const answer = await call("/v3/kv/range", { key: b64(prefix), range_end: b64(prefixEnd(prefix)) });
      const kvs = ((answer.kvs ?? []) as any[]).map((kv) => ({ key: unb64(kv.key), value: unb64(kv.value), modRevision: Number(kv.mod_revision) }));
      return { revision: Number(answer.header.revision), kvs };
    },
    async txn(compare, success, failure = []) {
      const answer = await call("/v3/kv/txn", { compare: compare.map(comparison), success: success.map(operation), failure: failure.map(operation) });
      const got = ((answer.responses ?? []) as any[]).filter((r) => "response_range" in r).map((r) => (r.response_range.kvs?.[0] ? unb64(r.response_range.kvs[0].value) : undefined));
      return { succeeded: answer.succeeded === true, revision: Number(answer.header.revision), got };
    },
    async grant(ttlSeconds) {
      return String((await call("/v3/lease/grant", { TTL: ttlSeconds })).ID);
    },
    async keepAlive(lease) {
      return Number((await call("/v3/lease/keepalive", { ID: lease })).result?.TTL ?? 0);
    },
    async revoke(lease) {
      await call("/v3/lease/revoke", { ID: lease });
    },
    async *watch(prefix, fromRevision, signal) {
      const endpoint = endpoints[current]!;
      const request = { create_request: { key: b64(prefix), range_end: b64(prefixEnd(prefix)), start_revision: String(fromRevision) } };
      const response = await fetch(`${endpoint}/v3/watch`, { method: "POST", body: JSON.stringify(request), signal, tls } as RequestInit);
      if (!response.ok || response.body === null) throw unreachable(`${endpoint}: watch answered HTTP ${response.status}`);
      let buffered = "";
      const decoder = new TextDecoder();
      for await (const chunk of response.body) {
        buffered += decoder.decode(chunk, { stream: true });
        let newline: number;
        while ((newline = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (line === "") continue;
          const message = JSON.parse(line);
          const result = message.result;
          if (result === undefined) throw unreachable(`${endpoint}: ${errorOf(line) ?? "the watch failed"}`);
          // A revision compacted away or a cancelled watch: the caller reads everything again.
          if (result.canceled || Number(result.compact_revision ?? 0) > 0) return;
          const events = ((result.events ?? []) as any[]).map((event) => ({
            type: event.type === "DELETE" ? "delete" as const : "put" as const,
            key: unb64(event.kv.key),
            value: unb64(event.kv.value),
          }));
          if (events.length > 0) yield { revision: Number(result.header.revision), events };
        }
      }
    },
  };
}

/** etcd's own error sentence from a gateway answer, if it has one. */
function errorOf(text: string): string | undefined {
  try {
    const body = JSON.parse(text);
    return body.error?.message ?? body.message ?? (typeof body.error === "string" ? body.error : undefined);
  } catch {
    return undefined;
  }
}
