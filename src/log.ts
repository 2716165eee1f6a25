// Logging: one line per event to stdout (for the journal) and appended to the log file.
import { closeSync, constants, mkdirSync, writeSync } from "node:fs";
import { join } from "node:path";
import { createConsola, LogLevels, type ConsolaInstance, type LogObject, type LogType } from "consola/core";
import { format } from "node:util";
import { openRegular, whyUnusable } from "./regular-file.ts";

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
  /** Lines that could not be written to the log file or to stdout (a full disk, a closed journal), dropped. */
  readonly writeFailures: number;
  close(): void;
}

export const LOG_FILE_NAME = "iofog-connector.log";

/**
 * Builds a logger; opening the log file fails loudly so that a bad `logDir` is reported at start.
 * Once running, logging never throws into the caller: a line the file cannot take (ENOSPC, EIO) is
 * dropped and counted, stdout goes on, and the loss is reported in the file once it takes lines again.
 */
export function createLogger(options: LoggerOptions = {}): ClosableLogger {
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  let fd: number | undefined;
  let file = "";
  if (options.logDir !== undefined) {
    mkdirSync(options.logDir, { recursive: true });
    file = join(options.logDir, LOG_FILE_NAME);
    try {
      fd = openRegular(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o640);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOTREG") throw error;
      // No errno code for this case: the start command then prints the sentence itself.
      throw Object.assign(new Error(`${file} ${whyUnusable(error)}`), { name: "" });
    }
  }
  const render = options.format === "json" ? renderJson : renderText;
  let failures = 0;
  /** Lines dropped from the file since it last took one, the reason, and whether a line was cut short. */
  let outage: { dropped: number; code: string; partial: boolean } | undefined;

  const toStdout = (line: string) => {
    try {
      write(line);
    } catch {
      failures++; // stdout is closed (no journal): the file still has the line
    }
  };
  /** Appends the whole line, or throws with `partial` telling whether part of it reached the file. */
  const append = (line: string) => {
    const bytes = Buffer.from(line);
    let done = 0;
    try {
      while (done < bytes.length) done += writeSync(fd!, bytes, done);
    } catch (error) {
      throw Object.assign(error as Error, { partial: done > 0 });
    }
  };
  const notice = (message: string) => render({ date: new Date(), type: "warn", args: [message] } as unknown as LogObject);
  const toFile = (line: string) => {
    if (fd === undefined) return;
    try {
      if (outage !== undefined) {
        append(`${outage.partial ? "\n" : ""}${notice(`${outage.dropped} log lines could not be written to ${file} (${outage.code}) and were dropped; stdout (the journal) has them.`)}`);
        outage = undefined;
      }
      append(line);
    } catch (error) {
      const { code, partial } = error as NodeJS.ErrnoException & { partial: boolean };
      failures++;
      if (outage === undefined) {
        outage = { dropped: 0, code: code ?? String(error), partial: false };
        toStdout(notice(`The log file ${file} cannot be written (${outage.code}); its lines are dropped until it can, and still go to stdout.`));
      }
      outage.dropped++;
      outage.partial ||= partial;
    }
  };

  const consola = createConsola({
    level: LogLevels[options.level ?? "info"],
    reporters: [
      {
        log(entry: LogObject) {
          const line = render(entry);
          toStdout(line);
          toFile(line);
        },
      },
    ],
  });
  const logger = Object.assign(consola, {
    setLevel(level: LogLevelName) {
      consola.level = LogLevels[level];
    },
    close() {
      if (fd === undefined) return;
      try {
        closeSync(fd);
      } catch {
        // EIO on close: the descriptor is released all the same
      }
      fd = undefined;
    },
  });
  // A getter: Object.assign would copy today's count once.
  return Object.defineProperty(logger, "writeFailures", { get: () => failures }) as typeof logger & { readonly writeFailures: number };
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
