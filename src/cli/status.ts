// `iofog-connector status`: the running daemon's version, ports and mappings, as text or JSON.
import { defineCommand } from "citty";
import { createDaemonClient } from "./client.ts";
import { configArg, EXIT_OK, report, settingsFrom, type Io } from "./settings-arg.ts";

export function statusCommand(io: Io) {
  return defineCommand({
    meta: { name: "status", description: "Show the running Connector's status" },
    args: { ...configArg, json: { type: "boolean", description: "Print JSON" } },
    async run({ args }) {
      try {
        const client = createDaemonClient(settingsFrom(args));
        const answer = await client.call("/api/v2/commandline", { command: "status", params: args.json ? "json" : "" });
        io.out(String(answer.response));
        return EXIT_OK;
      } catch (error) {
        return report(error, io);
      }
    },
  });
}
