// Wires the parts into a running Connector: settings → state → pool → relay → registry → API.
import { systemClock, type Clock } from "./clock.ts";
import type { Settings } from "./config/load.ts";
import { formatRange, type PortRange } from "./config/ranges.ts";
import { loadTls } from "./config/tls.ts";
import { createAccessList } from "./api/access.ts";
import { startApiServer, type ApiServer } from "./api/server.ts";
import { createRoutes } from "./api/routes.ts";
import type { ClosableLogger } from "./log.ts";
import { createRendezvous } from "./mappings/direct.ts";
import { describeMapping, formatReport, type StatusSummary } from "./mappings/report.ts";
import { createMappingService, type MappingService } from "./mappings/service.ts";
import { readProcFiles, unreservedEphemeral, type ProcFiles } from "./ports/ephemeral.ts";
import { createPortPool } from "./ports/pool.ts";
import { createRelay } from "./relay/index.ts";
import type { Relay } from "./relay/types.ts";
import { loadState } from "./store/state-file.ts";
import { helpText, versionText } from "./cli/texts.ts";
import { VERSION } from "./version.ts";

export interface DaemonOptions {
  settings: Settings;
  log: ClosableLogger;
  clock?: Clock;
  /** Address for the API and relay listeners; all interfaces by default. */
  hostname?: string;
  /** /proc contents for the ephemeral-range check; read from the machine by default. */
  proc?: ProcFiles;
  /** How long shutdown waits for relayed pairs to flush. */
  shutdownGraceMs?: number;
}

export interface Daemon {
  readonly apiPort: number;
  readonly service: MappingService;
  /** Graceful shutdown: stop accepting, flush pairs, close the log. Safe to call twice. */
  stop(): Promise<void>;
  /** Resolves once the daemon has stopped, whoever asked. */
  readonly stopped: Promise<void>;
}

/** Starts a Connector; fails with a ConnectorError (config, state, tls, port_in_use) before serving anything. */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { settings, log } = options;
  const clock = options.clock ?? systemClock();
  const hostname = options.hostname ?? "0.0.0.0";
  const startedAt = clock.now();

  const tls = settings.dev ? undefined : loadTls(settings.certFile, settings.keyFile, clock.now());
  const restored = loadState(settings.stateFile);
  const pool = createPortPool({ ranges: settings.ports, exclude: settings.exclude });
  warnEphemeral(pool.ranges(), options.proc ?? readProcFiles(), log);
  if (tls && tls.validTo - clock.now() < 30 * 86_400_000) {
    log.warn(`The certificate in ${settings.certFile} expires on ${new Date(tls.validTo).toISOString()}.`);
  }

  const relay: Relay = createRelay({ log, clock, tls: tls?.material, hostname });
  let api: ApiServer | undefined;
  try {
    const service = await createMappingService({ pool, relay, stateFile: settings.stateFile, log }, restored);
    const rendezvous = createRendezvous(clock);
    const scheme = settings.dev ? "http" : "https";
    /** Cheap fields for every status call; counting connections walks every mapping, so only the report does it. */
    const summary = () => ({
      totalPorts: pool.size,
      uptime: Math.floor((clock.now() - startedAt) / 1000),
      mode: settings.dev ? "dev mode, plain TCP" : "TLS",
      api: `${scheme}://${settings.address}:${api?.port ?? settings.apiPort}`,
      directs: service.directCount,
    });
    const connections = () => {
      let open = 0;
      for (const { port1, port2 } of relay.states()) open += port1.pending + port1.authorized + port2.pending + port2.authorized + port2.bound + port2.waiting;
      return open;
    };
    const report = (json: boolean) => {
      const head: StatusSummary = { status: "running", version: VERSION, mappings: service.count, availablePorts: service.availablePorts, ...summary(), connections: connections() };
      const rows = service.list().map((m) => describeMapping(m, service.state(m.id)));
      return json ? JSON.stringify({ ...head, list: rows }) : formatReport(head, rows, clock.now());
    };
    let stopping: Promise<void> | undefined;
    const { promise: stopped, resolve: markStopped } = Promise.withResolvers<void>();
    const stop = () =>
      (stopping ??= (async () => {
        log.info("Connector is stopping.");
        await api?.stop();
        await relay.shutdown(options.shutdownGraceMs ?? 5000);
        log.info("Connector stopped.");
        log.close();
        markStopped();
      })());
    const routes = createRoutes({
      service,
      rendezvous,
      clock,
      version: VERSION,
      broker: settings.broker,
      statusText: report,
      helpText,
      versionText,
      requestStop: () => void setTimeout(stop, 10),
      summary,
    });
    const controllers = createAccessList(settings.allowedControllers);
    api = startApiServer({ port: settings.apiPort, hostname, tls: tls?.material, routes, controllers: () => controllers, clock, log });
    log.info(
      `Connector ${VERSION} started: ${service.count} mappings, ${pool.available} of ${pool.size} ports free, API ${scheme} on port ${api.port}${settings.dev ? " (dev mode)" : ""}.`,
    );
    const apiPort = api.port;
    return { apiPort, service, stop, stopped };
  } catch (error) {
    await api?.stop();
    await relay.shutdown(0);
    throw error;
  }
}

function warnEphemeral(pool: PortRange[], proc: ProcFiles | undefined, log: ClosableLogger): void {
  if (proc === undefined) return;
  const overlap = unreservedEphemeral(pool, proc);
  if (overlap.length === 0) return;
  const count = overlap.reduce((sum, r) => sum + r.to - r.from + 1, 0);
  const list = overlap.map(formatRange).join(",");
  log.warn(
    `${count} pool ports (${list.length > 200 ? `${list.slice(0, 200)}…` : list}) lie in the kernel's ephemeral port range ` +
      `(${proc.localPortRange.trim().replace(/\s+/, "-")}) and are not reserved: outgoing connections may hold them and mappings then skip them. ` +
      `Reserve them with: sysctl -w net.ipv4.ip_local_reserved_ports=${list.length > 200 ? "<ranges>" : list}`,
  );
}
