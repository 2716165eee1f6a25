// A /metrics answer streamed chunk by chunk, giving the event loop back every few milliseconds so relayed connections keep moving.
import { METRICS_CONTENT_TYPE } from "./metrics.ts";

/** Longest stretch of rendering between two turns of the event loop, ms. */
const SLICE_MS = 2;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export function metricsResponse(chunks: AsyncIterable<string>): Response {
  async function* body() {
    // The request's turn already took the relay's snapshot of every port.
    await nextTurn();
    let since = performance.now();
    for await (const chunk of chunks) {
      yield chunk;
      if (performance.now() - since >= SLICE_MS) {
        await nextTurn();
        since = performance.now();
      }
    }
  }
  return new Response(body, { headers: { "content-type": METRICS_CONTENT_TYPE } });
}
