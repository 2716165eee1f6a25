// The command line: `iofog-connector <command>`, with the 1.x aliases and exit codes a script can use.
import { runCommand, type CommandDef } from "citty";
import { helpText, versionText } from "./texts.ts";
import { EXIT_ERROR, EXIT_OK, processIo, type Io } from "./settings-arg.ts";
import { startCommand } from "./start.ts";
import { statusCommand } from "./status.ts";
import { stopCommand } from "./stop.ts";

const ALIASES: Record<string, string> = {
  "-h": "help",
  "-?": "help",
  "--help": "help",
  "-v": "version",
  "--version": "version",
};

/** Runs one command line and returns its exit code; never throws. */
export async function runCli(rawArgs: string[], io: Io = processIo): Promise<number> {
  const [first = "help", ...rest] = rawArgs;
  const name = ALIASES[first] ?? first;
  if (name === "help") {
    io.out(helpText());
    return EXIT_OK;
  }
  if (name === "version") {
    io.out(versionText());
    return EXIT_OK;
  }
  const commands: Record<string, CommandDef<any>> = { start: startCommand(io), stop: stopCommand(io), status: statusCommand(io) };
  const command = commands[name];
  if (command === undefined) {
    io.err(`Unknown command "${first}".\n\n${helpText()}`);
    return EXIT_ERROR;
  }
  if (rest.some((arg) => ALIASES[arg] === "help")) {
    io.out(helpText());
    return EXIT_OK;
  }
  try {
    const { result } = await runCommand(command, { rawArgs: rest });
    return typeof result === "number" ? result : EXIT_OK;
  } catch (error) {
    io.err(error instanceof Error ? error.message : String(error));
    return EXIT_ERROR;
  }
}
