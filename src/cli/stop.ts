// `iofog-connector stop`: asks the running daemon to stop and waits until it no longer answers.
import { defineCommand } from "citty";
import { createDaemonClient } from "./client.ts";
import { configArg, EXIT_ERROR, EXIT_OK, report, settingsFrom, type Io } from "./settings-arg.ts";

const STOP_WAIT_MS = 15_000;

export function stopCommand(io: Io) {
  return defineCommand({
    meta: { name: "stop", description: "Stop the running Connector" },
    args: configArg,
    async run({ args }) {
      try {
        const client = createDaemonClient(settingsFrom(args));
        const answer = await client.call("/api/v2/commandline", { command: "stop", params: "" });
        io.out(String(answer.response ?? "Connector is stopping."));
        const deadline = Date.now() + STOP_WAIT_MS;
        while (Date.now() < deadline) {
          try {
            await client.call("/api/v2/commandline", { command: "version" });
          } catch {
            io.out("Connector stopped.");
            return EXIT_OK;
          }
          await Bun.sleep(100);
        }
        io.err(`Connector still answers ${STOP_WAIT_MS / 1000} s after being asked to stop.`);
        return EXIT_ERROR;
      } catch (error) {
        return report(error, io);
      }
    },
  });
}
