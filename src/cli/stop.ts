// `iofog-connector stop`: asks the running daemon to stop and waits until it has let go of its state file.
import { defineCommand } from "citty";
import { createDaemonClient } from "./client.ts";
import { isConnectorError } from "../errors.ts";
import { lockHolder } from "../store/lock.ts";
import { configArg, EXIT_ERROR, EXIT_OK, report, settingsFrom, type Io } from "./settings-arg.ts";

const STOP_WAIT_MS = 15_000;

export function stopCommand(io: Io) {
  return defineCommand({
    meta: { name: "stop", description: "Stop the running Connector" },
    args: configArg,
    async run({ args }) {
      try {
        const settings = settingsFrom(args);
        const client = createDaemonClient(settings);
        const answer = await client.call("/api/v2/commandline", { command: "stop", params: "" });
        io.out(String(answer.response ?? "Connector is stopping."));
        // The API closes first and the relay drains after it: only a released lock means a new
        // `start` can follow at once.
        const deadline = Date.now() + STOP_WAIT_MS;
        while (Date.now() < deadline) {
          if (lockHolder(settings.stateFile) === undefined && !(await answers(client))) {
            io.out("Connector stopped.");
            return EXIT_OK;
          }
          await Bun.sleep(100);
        }
        io.err(`Connector still runs ${STOP_WAIT_MS / 1000} s after being asked to stop.`);
        return EXIT_ERROR;
      } catch (error) {
        return report(error, io);
      }
    },
  });
}

async function answers(client: ReturnType<typeof createDaemonClient>): Promise<boolean> {
  try {
    await client.call("/api/v2/commandline", { command: "version" });
    return true;
  } catch (error) {
    if (isConnectorError(error)) return false; // gone, or no longer answering while it drains
    throw error;
  }
}
