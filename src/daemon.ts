// Wires the parts into a running Connector: settings → state → pool → relay → registry → API, and reloads on SIGHUP.
import { isIPv6 } from "node:net";
import { createAccessList, type AccessList } from "./api/access.ts";
import { createRoutes } from "./api/routes.ts";
import { startApiServer, type ApiServer } from "./api/server.ts";
import { helpText, versionText } from "./cli/texts.ts";
import { systemClock, type Clock } from "./clock.ts";
import { loadSettings, type Settings } from "./config/load.ts";
import { formatRange, type PortRange } from "./config/ranges.ts";
import { loadTls } from "./config/tls.ts";
import { createDescriptorGate, descriptorLimit, openDescriptors } from "./descriptors.ts";
import type { ClosableLogger } from "./log.ts";
import { createRendezvous } from "./mappings/direct.ts";
import { describeMapping, formatReport, type StatusSummary } from "./mappings/report.ts";
import { createMappingService, type MappingService } from "./mappings/service.ts";
import { createMetrics } from "./metrics/metrics.ts";
import { metricsResponse } from "./metrics/response.ts";
import { retiringRelay } from "./metrics/totals.ts";
import { readProcFiles, unreservedEphemeral, type ProcFiles } from "./ports/ephemeral.ts";
import { createPortPool } from "./ports/pool.ts";
import { createRelay } from "./relay/index.ts";
import type { Relay, RelayOptions } from "./relay/types.ts";
import { acquireStateLock, type StateLock } from "./store/lock.ts";
import { restoreState } from "./store/journal.ts";
import { prepareStateDir } from "./store/state-file.ts";
import { VERSION } from "./version.ts";

export interface DaemonOptions {
  settings: Settings;
  log: ClosableLogger;
  clock?: Clock;
  /** Address for the API and relay listeners; all interfaces (IPv6 and IPv4) by default. */
  hostname?: string;
  /** /proc contents for the ephemeral-range check; read from the machine by default. */
  proc?: ProcFiles;
  /** Journal size that triggers a compaction (bytes); see JournalOptions. */
  journalCompactAt?: number;
  /** How long shutdown waits for relayed pairs to flush. */
  shutdownGraceMs?: number;
  /** The state file's lock when the caller took it already; taken here otherwise. Released on stop. */
  lock?: StateLock;
  /** Relay timeouts and bounds other than the defaults (tests use short ones). */
  relayLimits?: Pick<RelayOptions, "handshakeTimeoutMs" | "holdTimeoutMs" | "bindRetryMs" | "privateHoldBytes" | "maxPendingPerPort" | "guessLimits" | "strangerLimits" | "floodLimits">;
}

export interface Daemon {
  readonly apiPort: number;
  readonly metricsPort: number | undefined;
  readonly service: MappingService;
  /**
   * Re-reads the settings file and applies what can change while running: certificate and key,
   * allowedControllers, logLevel. On any error the old values stay and the reason is logged.
   */
  reload(): boolean;
  /** Graceful shutdown: stop accepting, flush pairs, close the log. Safe to call twice. */
  stop(): Promise<void>;
  /** Resolves once the daemon has stopped, whoever asked. */
  readonly stopped: Promise<void>;
}

/** Starts a Connector; fails with a ConnectorError (config, state, tls, port_in_use) before serving anything. */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { settings, log } = options;
  // Before anything else: a second daemon on the same state file would split the mappings between two processes.
  // The lock lives next to the state file, so its directory is checked (and made) first.
  if (options.lock === undefined) prepareStateDir(settings.stateFile);
  const lock = options.lock ?? acquireStateLock(settings.stateFile);
  try {
    return await startLocked(options, lock);
  } catch (error) {
    lock.release();
    throw error;
  }
}

async function startLocked(options: DaemonOptions, lock: StateLock): Promise<Daemon> {
  const { settings, log } = options;
  const clock = options.clock ?? systemClock();
  const hostname = options.hostname ?? allInterfaces();
  const startedAt = clock.now();

  const tls = settings.dev ? undefined : loadTls(settings.certFile, settings.keyFile, clock.now());
  const restored = await restoreState(settings.stateFile);
  // Loaded only in cluster mode, so that a single Connector neither parses nor holds it.
  const cluster = settings.cluster && (await import("./cluster/index.ts")).openCluster({ settings: { ...settings, cluster: settings.cluster }, log, clock });
  const pool = createPortPool({ ranges: settings.ports, exclude: settings.exclude });
  warnEphemeral(pool.ranges(), options.proc ?? readProcFiles(), log);
  if (tls) warnExpiry(tls.validTo, settings.certFile, clock, log);

  const metrics = createMetrics({ version: VERSION, startedAt, perPortRejects: settings.metricsPerMappingRejects });
  // Relayed and API connections and listeners are what grows; the rest was open at start or is in the reserve.
  let listeners = () => 0;
  const gate = createDescriptorGate({
    limit: descriptorLimit(), base: openDescriptors() ?? 0, clock, log,
    inUse: () => relay.connections + listeners() + servers.reduce((sum, server) => sum + server.connections, 0),
  });
  const relay: Relay = createRelay({ ...options.relayLimits, log, clock, tls: tls?.material, hostname, admit: gate.admit, freeDescriptors: gate.free });
  const servers: ApiServer[] = [];
  try {
    const service = await createMappingService(
      { pool, relay: retiringRelay(relay, metrics), stateFile: settings.stateFile, log, clock, maxDirects: settings.maxDirects, onStateWrite: metrics.recordStateWrite, compactAt: options.journalCompactAt, shared: cluster?.ledger },
      restored,
    );
    await cluster?.follow(service);
    listeners = () => 2 * service.count;
    const scheme = settings.dev ? "http" : "https";
    const summary = () => ({
      totalPorts: pool.size,
      uptime: Math.floor((clock.now() - startedAt) / 1000),
      mode: settings.dev ? "dev mode, plain TCP" : "TLS",
      api: `${scheme}://${isIPv6(settings.address) ? `[${settings.address}]` : settings.address}:${servers[0]?.port ?? settings.apiPort}`,
      directs: service.directCount,
      ...(cluster && { cluster: cluster.view() }),
    });
    const report = (json: boolean) => {
      const states = relay.states();
      let connections = 0;
      for (const { port1, port2 } of states) connections += port1.pending + port1.authorized + port2.pending + port2.authorized + port2.bound + port2.waiting;
      const head: StatusSummary = { status: "running", version: VERSION, mappings: service.count, availablePorts: service.availablePorts, ...summary(), connections };
      const rows = service.list().map((m) => describeMapping(m, service.state(m.id)));
      return json ? JSON.stringify({ ...head, list: rows }) : formatReport(head, rows, clock.now());
    };
    const scrape = () =>
      metricsResponse(
        metrics.render({
          states: relay.states(), mappings: service.count, directs: service.directCount, portsFree: pool.available, portsTotal: pool.size, logWriteFailures: log.writeFailures, cluster: cluster?.view(),
        }),
      );

    let stopping: Promise<void> | undefined;
    const { promise: stopped, resolve: markStopped } = Promise.withResolvers<void>();
    const stop = () =>
      (stopping ??= (async () => {
        log.info("Connector is stopping.");
        for (const server of servers) await server.stop();
        await cluster?.close();
        await service.close();
        await relay.shutdown(options.shutdownGraceMs ?? 5000);
        log.info("Connector stopped.");
        log.close();
        lock.release();
        markStopped();
      })());

    let controllers: AccessList = createAccessList(settings.allowedControllers);
    const routes = createRoutes({
      service,
      rendezvous: createRendezvous(clock),
      clock,
      version: VERSION,
      broker: settings.broker,
      statusText: report,
      helpText,
      versionText,
      requestStop: () => void setTimeout(stop, 10),
      summary,
    });
    const gets = new Map([["/metrics", scrape]]);
    servers.push(startApiServer({
      port: settings.apiPort, hostname, tls: tls?.material, routes, gets, controllers: () => controllers, clock, log, onRequest: metrics.recordApi, admit: gate.admitApi,
    }));
    if (settings.metricsPort !== undefined) {
      const anyone = createAccessList(undefined);
      servers.push(startApiServer({ port: settings.metricsPort, hostname: "127.0.0.1", routes: new Map(), gets, controllers: () => anyone, clock, log, admit: gate.admitApi }));
    }
    log.info(
      `Connector ${VERSION} started: ${service.count} mappings, ${pool.available} of ${pool.size} ports free, API ${scheme} on port ${servers[0]!.port}${settings.dev ? " (dev mode)" : ""}.`,
    );

    const reload = () => {
      try {
        const next = loadSettings(settings.file);
        const nextTls = next.dev ? undefined : loadTls(next.certFile, next.keyFile, clock.now());
        const nextControllers = createAccessList(next.allowedControllers);
        if (nextTls && !settings.dev) {
          relay.setTls(nextTls.material);
          servers[0]!.setTls(nextTls.material);
          warnExpiry(nextTls.validTo, next.certFile, clock, log);
        }
        controllers = nextControllers;
        log.setLevel(next.logLevel);
        const fixed = (["ports", "exclude", "dev", "apiPort", "stateFile", "logDir", "broker", "maxDirects", "metricsPerMappingRejects", "cluster"] as const).filter(
          (key) => JSON.stringify(next[key]) !== JSON.stringify(settings[key]),
        );
        if (fixed.length > 0) log.warn(`Settings reloaded; ${fixed.join(", ")} changed and take effect after a restart.`);
        else log.info("Settings reloaded: certificate, allowedControllers and logLevel applied.");
        return true;
      } catch (error) {
        log.error(`Reload failed, the previous settings stay in force: ${error instanceof Error ? error.message : String(error)}`);
        return false;
      }
    };

    return { apiPort: servers[0]!.port, metricsPort: servers[1]?.port, service, reload, stop, stopped };
  } catch (error) {
    for (const server of servers) await server.stop();
    await cluster?.close();
    await relay.shutdown(0);
    throw error;
  }
}

/** "::" (IPv6 and IPv4 alike) where the kernel has IPv6, else "0.0.0.0". */
function allInterfaces(): string {
  try {
    Bun.listen({ hostname: "::", port: 0, socket: { data() {} } }).stop(true);
    return "::";
  } catch {
    return "0.0.0.0"; // IPv6 disabled on this machine
  }
}

function warnExpiry(validTo: number, file: string, clock: Clock, log: ClosableLogger): void {
  if (validTo - clock.now() < 30 * 86_400_000) log.warn(`The certificate in ${file} expires on ${new Date(validTo).toISOString()}.`);
}

function warnEphemeral(pool: PortRange[], proc: ProcFiles | undefined, log: ClosableLogger): void {
  if (proc === undefined) return;
  const overlap = unreservedEphemeral(pool, proc);
  if (overlap.length === 0) return;
  const count = overlap.reduce((sum, r) => sum + r.to - r.from + 1, 0);
  const list = overlap.map(formatRange).join(",");
  const shown = list.length > 200 ? `${list.slice(0, 200)}…` : list;
  log.warn(
    `${count} pool ports (${shown}) lie in the kernel's ephemeral port range (${proc.localPortRange.trim().replace(/\s+/, "-")}) ` +
      "and are not reserved: outgoing connections may hold them, and mappings then skip them. " +
      `Reserve them: sysctl -w net.ipv4.ip_local_reserved_ports=${list.length > 200 ? "<the ranges above>" : list} (see the README).`,
  );
}
