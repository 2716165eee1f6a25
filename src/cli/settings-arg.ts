// The --config flag every command takes, and turning failures into one line and an exit code.
import { loadSettings, settingsPath, type Settings } from "../config/load.ts";
import { isConnectorError } from "../errors.ts";

export const configArg = {
  config: { type: "string", description: "Settings file", valueHint: "PATH" },
} as const;

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_NOT_RUNNING = 3;
/** A daemon is alive (it holds the state file's lock, or took the connection) but its API does not answer. */
export const EXIT_NOT_ANSWERING = 4;

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: Io = {
  out: (text) => void process.stdout.write(`${text}\n`),
  err: (text) => void process.stderr.write(`${text}\n`),
};

export function settingsFrom(args: { config?: string }): Settings {
  return loadSettings(settingsPath(args.config));
}

/** Prints a failure as one line and returns its exit code; unknown failures keep their message, never a trace. */
export function report(error: unknown, io: Io): number {
  if (isConnectorError(error, "not_running")) {
    io.err("Connector is not running.");
    return EXIT_NOT_RUNNING;
  }
  if (isConnectorError(error, "not_answering")) {
    io.err(error.message);
    return EXIT_NOT_ANSWERING;
  }
  io.err(error instanceof Error ? error.message : String(error));
  return EXIT_ERROR;
}
