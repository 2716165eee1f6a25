// The fixed texts of the command line: usage and version.
import { LICENSE_LINES, VERSION } from "../version.ts";

export function helpText(): string {
  return [
    "Usage: iofog-connector <command> [--config PATH]",
    "",
    "Commands:",
    "  start                 Run the Connector in the foreground",
    "  stop                  Stop the running Connector",
    "  status [--json]       Show the running Connector's status, ports and mappings",
    "  help, -h, -?, --help  Show this usage information",
    "  version, -v, --version",
    "                        Show the version and license",
    "",
    "Options:",
    `  --config PATH         Settings file (default: $IOFOG_CONNECTOR_CONFIG or /etc/iofog-connector/iofog-connector.conf)`,
    "",
    "Exit codes: 0 ok, 1 error, 3 not running, 4 running but not answering (start: another one holds the state file).",
  ].join("\n");
}

export function versionText(): string {
  return [`ioFog Connector ${VERSION}`, ...LICENSE_LINES].join("\n");
}
