// packaging/iofog-connector.8 stays in step with the command line and the settings: every
// command, alias, option, exit code, signal and settings field the code has is in its section.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startCommand } from "../../src/cli/start.ts";
import { statusCommand } from "../../src/cli/status.ts";
import { stopCommand } from "../../src/cli/stop.ts";
import { helpText } from "../../src/cli/texts.ts";
import { EXIT_ERROR, EXIT_NOT_ANSWERING, EXIT_NOT_RUNNING, EXIT_OK } from "../../src/cli/settings-arg.ts";
import { CONFIG_ENV, DEFAULT_LOG_DIR, DEFAULT_SETTINGS_FILE } from "../../src/config/load.ts";
import { Settings } from "../../src/config/schema.ts";
import { LICENSE_LINES, VERSION } from "../../src/version.ts";

const root = join(import.meta.dir, "../..");
const page = readFileSync(join(root, "packaging/iofog-connector.8"), "utf8");
const silent = { out() {}, err() {} };
const commands = [startCommand(silent), stopCommand(silent), statusCommand(silent)];

/** The words set in bold or italics by the macro lines of one section (.SH NAME up to the next .SH), roff escapes undone. */
function terms(name: string): Set<string> {
  const start = page.indexOf(`\n.SH ${name}\n`);
  if (start < 0) throw new Error(`the man page has no section ${name}`);
  const end = page.indexOf("\n.SH ", start + 1);
  const found = new Set<string>();
  for (const line of page.slice(start, end < 0 ? undefined : end).split("\n")) {
    const macro = /^\.(B|I|BR|BI|IR|RB|TP)\s+(.*)$/.exec(line);
    if (!macro) continue;
    const text = macro[2]!.replace(/\\-/g, "-").replace(/\\\(dq/g, '"');
    for (const word of text.match(/"[^"]*"|\S+/g) ?? []) found.add(word.replace(/^"|"$/g, "").replace(/,$/, "").trim());
  }
  return found;
}

function missing(section: string, wanted: Iterable<string>): string[] {
  const have = terms(section);
  return [...wanted].filter((word) => !have.has(word));
}

test("every command and every alias of the help text has its entry under COMMANDS and in the SYNOPSIS", () => {
  const names = commands.map((command) => (command.meta as { name: string }).name);
  const help = helpText().split("\n");
  const commandLines = help.slice(help.indexOf("Commands:") + 1, help.indexOf("Options:"));
  // "  status [--json]  Show ..." and "  help, -h, -?, --help  Show ...": the words before the description.
  const aliases = commandLines.flatMap((line) => (/^ {2}(\S.*?)(?: {2,}|$)/.exec(line)?.[1] ?? "").split(/[,\s]+/)).filter((word) => word !== "" && !word.startsWith("["));
  expect(names).toEqual(["start", "stop", "status"]);
  expect(aliases).toEqual(expect.arrayContaining([...names, "help", "-h", "-?", "--help", "version", "-v", "--version"]));
  expect(missing("COMMANDS", [...names, ...aliases])).toEqual([]);
  expect(missing("SYNOPSIS", [...names, ...aliases])).toEqual([]);
});

test("every option of every command, and every option of the help text, is under OPTIONS and in the SYNOPSIS", () => {
  const options = new Set<string>();
  for (const command of commands) for (const arg of Object.keys(command.args ?? {})) options.add(`--${arg}`);
  for (const option of helpText().match(/--[a-z][a-z-]*/g) ?? []) if (!["--help", "--version"].includes(option)) options.add(option);
  expect([...options].sort()).toEqual(["--config", "--json"]);
  expect(missing("OPTIONS", options)).toEqual([]);
  expect(missing("SYNOPSIS", options)).toEqual([]);
});

test("the exit codes, the environment variable and the default paths are the code's", () => {
  expect(missing("EXIT STATUS", [EXIT_OK, EXIT_ERROR, EXIT_NOT_RUNNING, EXIT_NOT_ANSWERING].map(String))).toEqual([]);
  expect(helpText()).toContain(`Exit codes: ${EXIT_OK} ok, ${EXIT_ERROR} error, ${EXIT_NOT_RUNNING} not running, ${EXIT_NOT_ANSWERING} running but not answering`);
  expect(missing("ENVIRONMENT", [CONFIG_ENV])).toEqual([]);
  expect(missing("OPTIONS", [CONFIG_ENV, DEFAULT_SETTINGS_FILE])).toEqual([]);
  expect(missing("FILES", [DEFAULT_SETTINGS_FILE, `${DEFAULT_LOG_DIR}/iofog-connector.log`])).toEqual([]);
});

test("every settings field of the schema is described under SETTINGS", () => {
  const fields = Object.keys(Settings.entries);
  expect(fields).toContain("allowedControllers");
  expect(missing("SETTINGS", fields)).toEqual([]);
});

test("every signal the start command handles is under SIGNALS", () => {
  const source = readFileSync(join(root, "src/cli/start.ts"), "utf8");
  const signals = [...new Set([...source.matchAll(/process\.on\("(SIG[A-Z]+)"/g)].map((match) => match[1]!))];
  expect(signals.sort()).toEqual(["SIGHUP", "SIGINT", "SIGTERM"]);
  expect(missing("SIGNALS", signals)).toEqual([]);
});

test("the title carries the version of package.json", () => {
  expect(page).toMatch(new RegExp(`^\\.TH IOFOG-CONNECTOR 8 \\d{4}-\\d{2}-\\d{2} "iofog-connector ${VERSION.replace(/\./g, "\\.")}" `, "m"));
});

test("the copyright line of the man page and of Debian's copyright file is the executable's", () => {
  const line = LICENSE_LINES[0]!;
  expect(page.replace(/\\-/g, "-")).toContain(`\n${line}.\n`);
  expect(readFileSync(join(root, "packaging/copyright"), "utf8").split("\n")).toContain(line);
});

test.skipIf(Bun.which("man") === null)("man renders it without a warning", () => {
  const result = Bun.spawnSync(["man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", join(root, "packaging/iofog-connector.8")], {
    env: { ...process.env, LC_ALL: "C.UTF-8", MANWIDTH: "80" },
  });
  expect(result.stderr.toString()).toBe("");
  expect(result.exitCode).toBe(0);
});
