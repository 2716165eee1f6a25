// `iofog-connector status`: the running daemon's version, ports and mappings, as text or JSON.
import { defineCommand } from "citty";
import { formatReport, type MappingRow, type StatusSummary } from "../mappings/report.ts";
import { createDaemonClient } from "./client.ts";
import { configArg, EXIT_OK, report, settingsFrom, type Io } from "./settings-arg.ts";

export function statusCommand(io: Io) {
  return defineCommand({
    meta: { name: "status", description: "Show the running Connector's status" },
    args: { ...configArg, json: { type: "boolean", description: "Print JSON" } },
    async run({ args }) {
      try {
        const client = createDaemonClient(settingsFrom(args));
        const summary = (await client.call("/api/v2/status", { mappingid: "all" })) as unknown as StatusSummary;
        const list = await client.call("/api/v2/mapping/list");
        const rows = (list.mappings ?? []) as MappingRow[];
        io.out(args.json ? JSON.stringify({ ...summary, list: rows }) : formatReport(summary, rows, Date.now()));
        return EXIT_OK;
      } catch (error) {
        return report(error, io);
      }
    },
  });
}
