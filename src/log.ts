// Logging: one line per event to stdout (for the journal) and appended to the log file.
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { createConsola, LogLevels, type ConsolaInstance, type LogObject, type LogType } from "consola/core";
import { format } from "node:util";

/** The logger every part of the Connector receives. */
export type Logger = Pick<ConsolaInstance, "error" | "warn" | "info" | "debug" | "level">;

export const LOG_LEVELS = ["error", "warn", "info", "debug"] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];
export type LogFormat = "text" | "json";

export interface LoggerOptions {
  level?: LogLevelName;
  format?: LogFormat;
  /** Directory of `iofog-connector.log`; no file when undefined. */
  logDir?: string;
  /** Where human lines go besides the file; defaults to stdout. */
  write?: (line: string) => void;
}

export interface ClosableLogger extends Logger {
  /** Changes the level of a running logger (settings reload). */
  setLevel(level: LogLevelName): void;
  close(): void;
}

export const LOG_FILE_NAME = "iofog-connector.log";

/** Builds a logger; opening the log file fails loudly so that a bad `logDir` is reported at start. */
export function createLogger(options: LoggerOptions = {}): ClosableLogger {
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  let fd: number | undefined;
  if (options.logDir !== undefined) {
    mkdirSync(options.logDir, { recursive: true });
    fd = openSync(join(options.logDir, LOG_FILE_NAME), "a", 0o640);
  }
  const render = options.format === "json" ? renderJson : renderText;
  const consola = createConsola({
    level: LogLevels[options.level ?? "info"],
    reporters: [
      {
        log(entry: LogObject) {
          const line = render(entry);
          write(line);
          if (fd !== undefined) writeSync(fd, line);
        },
      },
    ],
  });
  return Object.assign(consola, {
    setLevel(level: LogLevelName) {
      consola.level = LogLevels[level];
    },
    close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  });
}

function levelName(type: LogType): string {
  return type === "log" || type === "success" || type === "ready" || type === "start" ? "info" : type;
}

function renderText(entry: LogObject): string {
  return `${entry.date.toISOString()} [${levelName(entry.type).toUpperCase()}] ${format(...entry.args)}\n`;
}

function renderJson(entry: LogObject): string {
  return `${JSON.stringify({ time: entry.date.toISOString(), level: levelName(entry.type), msg: format(...entry.args) })}\n`;
}

/** Shows enough of a passcode or passkey to tell two apart in a log, never the whole of it. */
export function redact(secret: string): string {
  return secret.length <= 8 ? "…" : `${secret.slice(0, 8)}…`;
}
