// A relay thread's logger: each line goes to the control thread, which writes it to the daemon's log.
import { createConsola, type LogObject } from "consola/core";
import { format } from "node:util";
import type { Logger } from "../log.ts";
import type { FromThread } from "./messages.ts";

type Level = Extract<FromThread, { type: "log" }>["level"];

function levelOf(type: string): Level {
  return type === "error" || type === "fatal" ? "error" : type === "warn" ? "warn" : type === "debug" || type === "trace" ? "debug" : "info";
}

/** A logger whose lines are posted with `post`; its level follows the control thread's (set on `level` messages). */
export function createThreadLogger(level: number, post: (message: FromThread) => void): Logger {
  return createConsola({
    level,
    reporters: [{ log: (entry: LogObject) => post({ type: "log", level: levelOf(entry.type), text: format(...entry.args) }) }],
  });
}

/** The control thread's side: a relay thread's line into the daemon's log. */
export function writeThreadLine(log: Logger, message: Extract<FromThread, { type: "log" }>): void {
  log[message.level](message.text);
}
