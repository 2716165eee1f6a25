// A /metrics answer streamed chunk by chunk, giving the event loop back every few milliseconds so relayed connections keep moving.
import { METRICS_CONTENT_TYPE } from "./metrics.ts";

/** Longest stretch of rendering between two turns of the event loop, ms. */
const SLICE_MS = 3;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export function metricsResponse(chunks: Iterable<string>): Response {
  async function* body() {
    let since = performance.now();
    for (const chunk of chunks) {
      yield chunk;
      if (performance.now() - since >= SLICE_MS) {
        await nextTurn();
        since = performance.now();
      }
    }
  }
  return new Response(body, { headers: { "content-type": METRICS_CONTENT_TYPE } });
}
