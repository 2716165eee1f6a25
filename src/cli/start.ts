// `iofog-connector start`: the daemon in the foreground, as systemd runs it.
import { defineCommand } from "citty";
import { apiHost, createDaemonClient } from "./client.ts";
import { startDaemon } from "../daemon.ts";
import { ConnectorError } from "../errors.ts";
import { readOptional } from "../read-optional.ts";
import { createLogger } from "../log.ts";
import type { Settings } from "../config/load.ts";
import { configArg, EXIT_OK, report, settingsFrom, type Io } from "./settings-arg.ts";

export function startCommand(io: Io) {
  return defineCommand({
    meta: { name: "start", description: "Run the Connector in the foreground" },
    args: configArg,
    async run({ args }) {
      let settings: Settings;
      try {
        settings = settingsFrom(args);
        if (await alreadyRunning(settings)) {
          io.out("Connector is already running.");
          return EXIT_OK;
        }
        checkPrivilegedPort(settings.apiPort);
      } catch (error) {
        return report(error, io);
      }
      let log;
      try {
        log = createLogger({ level: settings.logLevel, format: settings.logFormat, logDir: settings.logDir });
      } catch (error) {
        return report(new ConnectorError("config", `The log directory ${settings.logDir} cannot be written (${(error as NodeJS.ErrnoException).code ?? String(error)}); set "logDir" in ${settings.file}.`), io);
      }
      let daemon;
      try {
        daemon = await startDaemon({ settings, log });
      } catch (error) {
        log.error(error instanceof Error ? error.message : String(error));
        log.close();
        return report(error, { out: () => {}, err: () => {} });
      }
      const stop = () => void daemon.stop();
      process.on("SIGTERM", stop);
      process.on("SIGINT", stop);
      const reload = () => void daemon.reload();
      process.on("SIGHUP", reload);
      await daemon.stopped;
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
      process.off("SIGHUP", reload);
      return EXIT_OK;
    },
  });
}

async function alreadyRunning(settings: Settings): Promise<boolean> {
  // A refused TCP connection answers at once; only something listening is worth an HTTP request.
  if (!(await accepts(apiHost(settings.address).replace(/^\[|\]$/g, ""), settings.apiPort))) return false;
  try {
    const body = await createDaemonClient(settings, 2000).call("/api/v2/commandline", { command: "version" });
    return typeof body.response === "string" && body.response.includes("Connector");
  } catch {
    return false; // nothing (or nothing like a Connector) answers: this instance may start
  }
}

function accepts(hostname: string, port: number): Promise<boolean> {
  const { promise, resolve } = Promise.withResolvers<boolean>();
  Bun.connect({
    hostname,
    port,
    socket: {
      open(socket) {
        resolve(true);
        socket.end();
      },
      connectError: () => resolve(false), error: () => resolve(false), data() {} },
  }).catch(() => resolve(false));
  setTimeout(() => resolve(false), 2000).unref();
  return promise;
}

/** Ports below the unprivileged start need root or CAP_NET_BIND_SERVICE; say so before trying. */
function checkPrivilegedPort(port: number): void {
  if (process.getuid?.() === 0) return;
  const unprivilegedStart = Number(readOptional("/proc/sys/net/ipv4/ip_unprivileged_port_start") ?? 1024);
  if (port >= unprivilegedStart) return;
  const capabilities = /CapEff:\s*([0-9a-f]+)/i.exec(readOptional("/proc/self/status") ?? "")?.[1];
  const CAP_NET_BIND_SERVICE = 10n;
  if (capabilities !== undefined && (BigInt(`0x${capabilities}`) >> CAP_NET_BIND_SERVICE) & 1n) return;
  throw new ConnectorError(
    "config",
    `The API port ${port} needs root or CAP_NET_BIND_SERVICE; run the Connector as root or through its systemd unit, or set "dev": true or "apiPort" to a port above 1023.`,
  );
}
