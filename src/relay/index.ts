// The relay engine's public face: the factory and the contract types.
export { createRelay } from "./relay.ts";
export type * from "./types.ts";
