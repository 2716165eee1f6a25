// The relay on several threads: the host that implements the Relay contract over relay threads.
export { createThreadedRelay, PUBLISH_EVERY_MS, type ThreadedRelay, type ThreadedRelayOptions } from "./host.ts";
