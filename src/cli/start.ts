// `iofog-connector start`: the daemon in the foreground, as systemd runs it; one per state file.
import { defineCommand } from "citty";
import { createDaemonClient, LOOPBACK } from "./client.ts";
import { startDaemon } from "../daemon.ts";
import { ConnectorError, isConnectorError } from "../errors.ts";
import { readOptional } from "../read-optional.ts";
import { createLogger } from "../log.ts";
import type { Settings } from "../config/load.ts";
import { acquireStateLock, type StateLock } from "../store/lock.ts";
import { prepareStateDir } from "../store/state-file.ts";
import { configArg, EXIT_NOT_ANSWERING, EXIT_OK, report, settingsFrom, type Io } from "./settings-arg.ts";

export function startCommand(io: Io) {
  return defineCommand({
    meta: { name: "start", description: "Run the Connector in the foreground" },
    args: configArg,
    async run({ args }) {
      let settings: Settings;
      let lock: StateLock;
      try {
        settings = settingsFrom(args);
        checkPrivilegedPort(settings.apiPort);
      } catch (error) {
        return report(error, io);
      }
      try {
        // The lock lives next to the state file: its directory is checked (and made) first.
        prepareStateDir(settings.stateFile);
        lock = acquireStateLock(settings.stateFile);
      } catch (error) {
        if (!isConnectorError(error, "already_running")) return report(error, io);
        // The lock decides, whatever the holder's state: a second daemon on this state file never starts.
        if (await answersAsConnector(settings)) {
          io.out("Connector is already running.");
          return EXIT_OK;
        }
        io.err(`${error.message} It does not answer on its API at the moment; this one does not start.`);
        return EXIT_NOT_ANSWERING;
      }
      try {
        // Another Connector on the API port with a state file of its own (or a 1.x one, which takes no lock).
        if (await answersAsConnector(settings)) {
          lock.release();
          io.out("Connector is already running.");
          return EXIT_OK;
        }
      } catch (error) {
        lock.release();
        return report(error, io);
      }
      let log;
      try {
        log = createLogger({ level: settings.logLevel, format: settings.logFormat, logDir: settings.logDir });
      } catch (error) {
        lock.release();
        return report(new ConnectorError("config", `The log directory ${settings.logDir} cannot be written (${(error as NodeJS.ErrnoException).code ?? String(error)}); set "logDir" in ${settings.file}.`), io);
      }
      let daemon;
      try {
        daemon = await startDaemon({ settings, log, lock, journalCompactAt: compactAtFrom(process.env) });
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

async function answersAsConnector(settings: Settings): Promise<boolean> {
  // A refused TCP connection answers at once; only something listening is worth an HTTP request.
  if (!(await accepts(LOOPBACK, settings.apiPort))) return false;
  try {
    const body = await createDaemonClient(settings, 2000).call("/api/v2/commandline", { command: "version" });
    return typeof body.response === "string" && body.response.includes("Connector");
  } catch (error) {
    if (isConnectorError(error)) return false; // nothing (or nothing like a Connector) answers
    throw error;
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

/** IOFOG_CONNECTOR_JOURNAL_COMPACT_BYTES: compact the journal past this size instead of the default (for crash tests). */
function compactAtFrom(env: Record<string, string | undefined>): number | undefined {
  const value = env.IOFOG_CONNECTOR_JOURNAL_COMPACT_BYTES;
  return value !== undefined && /^\d{1,15}$/.test(value) ? Number(value) : undefined;
}
