// What the control thread and a relay thread say to each other; everything crosses by structured clone.
import type { ErrorCode } from "../errors.ts";
import type { OpenOptions, RelayMapping, RelayOptions, TlsMaterial } from "../relay/types.ts";
import type { DescriptorShare } from "./descriptors.ts";

/** The engine settings a relay thread is built with: RelayOptions without the parts that cannot cross threads. */
export type ThreadRelayOptions = Omit<RelayOptions, "log" | "clock" | "tls" | "admit" | "freeDescriptors">;

export interface ThreadInit {
  type: "init";
  index: number;
  relay: ThreadRelayOptions;
  tls: TlsMaterial | undefined;
  /** consola's numeric level. */
  logLevel: number;
  /** The soft descriptor limit; undefined when unknown (no gate). */
  descriptorLimit: number | undefined;
  /** Descriptors open when the daemon started. */
  descriptorBase: number;
  descriptors: DescriptorShare;
  segments: Float64Array[];
  publishEveryMs: number;
}

/** Control thread to relay thread. Those with `req` are answered with a ThreadReply of the same `req`. */
export type ToThread =
  | ThreadInit
  | { type: "open"; req: number; mapping: RelayMapping; options: OpenOptions; slot: number }
  | { type: "close"; req: number; id: string; slot: number }
  | { type: "tls"; tls: TlsMaterial }
  | { type: "level"; level: number }
  | { type: "segment"; segment: Float64Array }
  | { type: "shutdown"; req: number; graceMs: number }
  /** Several of the above posted in one turn (a restore opens thousands at once): one message to clone and wake for. */
  | { type: "batch"; messages: ToThread[] };

export interface ThreadFailure {
  code: ErrorCode;
  message: string;
  port?: number;
}

/** Relay thread to control thread. */
export type FromThread =
  | { type: "reply"; req: number; error?: ThreadFailure }
  | { type: "replies"; replies: Array<{ type: "reply"; req: number; error?: ThreadFailure }> }
  | { type: "log"; level: "error" | "warn" | "info" | "debug"; text: string };
