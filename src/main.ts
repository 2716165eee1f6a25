// The executable's entry point: run the command line and exit with its code.
import { runCli } from "./cli/index.ts";

process.exit(await runCli(process.argv.slice(2)));
