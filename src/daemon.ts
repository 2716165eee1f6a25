// Wires the parts into a running Connector: settings → state → pool → relay → registry → API, and reloads on SIGHUP.
import { createAccessList, type AccessList } from "./api/access.ts";
import { createRoutes } from "./api/routes.ts";
import { startApiServer, type ApiServer } from "./api/server.ts";
import { helpText, versionText } from "./cli/texts.ts";
import { systemClock, type Clock } from "./clock.ts";
import type { Settings } from "./config/load.ts";
import { loadTls } from "./config/tls.ts";
import { warnEphemeral, warnExpiry } from "./daemon/notices.ts";
import { hostRelay, type DaemonRelay, type RelayLimits } from "./daemon/relay.ts";
import { createReload } from "./daemon/reload.ts";
import { createScrape } from "./daemon/scrape.ts";
import { createStatus } from "./daemon/status.ts";
import type { ClosableLogger } from "./log.ts";
import { createRendezvous } from "./mappings/direct.ts";
import { createMappingService, type MappingService } from "./mappings/service.ts";
import { createMetrics } from "./metrics/metrics.ts";
import { retiringRelay } from "./metrics/totals.ts";
import { readProcFiles, type ProcFiles } from "./ports/ephemeral.ts";
import { createPortPool } from "./ports/pool.ts";
import { acquireStateLock, type StateLock } from "./store/lock.ts";
import { restoreState } from "./store/journal.ts";
import { prepareStateDir } from "./store/state-file.ts";
import { VERSION } from "./version.ts";

/** Restored records from which the start-up garbage is collected at once rather than left to the collector. */
const RESTORE_SETTLE_FROM = 1000;

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
  relayLimits?: RelayLimits;
}

export interface Daemon {
  readonly apiPort: number;
  readonly metricsPort: number | undefined;
  readonly service: MappingService;
  /** How the relay is hosted: its threads and their restarts. */
  readonly relay: DaemonRelay;
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
  const { settings } = options;
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
  const servers: ApiServer[] = [];
  let listeners = () => 0;
  const hosted = hostRelay({
    threads: settings.relayThreads, log, clock, tls: tls?.material, hostname, limits: options.relayLimits,
    controlInUse: () => listeners() + servers.reduce((sum, server) => sum + server.connections, 0),
    retire: metrics.retire,
  });
  const { relay, gate } = hosted;
  try {
    const service = await createMappingService(
      { pool, relay: retiringRelay(relay, metrics), stateFile: settings.stateFile, log, clock, maxDirects: settings.maxDirects, onStateWrite: metrics.recordStateWrite, compactAt: options.journalCompactAt, shared: cluster?.ledger },
      restored,
    );
    await cluster?.follow(service);
    // Restoring thousands of mappings leaves garbage (their records, the opens' promises and messages) that would
    // otherwise stay resident as the heap's high-water mark: collected once, when the start-up burst is over.
    const cancelSettle = restored.length >= RESTORE_SETTLE_FROM ? clock.after(1000, () => Bun.gc(true)) : () => {};
    listeners = () => 2 * service.count;
    const status = createStatus({ settings, clock, startedAt, pool, service, relay, apiPort: () => servers[0]?.port ?? settings.apiPort, cluster: cluster?.view });
    const scrape = createScrape({ metrics, relay: hosted, service, pool, log, cluster: cluster?.view });

    let stopping: Promise<void> | undefined;
    const { promise: stopped, resolve: markStopped } = Promise.withResolvers<void>();
    const stop = () =>
      (stopping ??= (async () => {
        log.info("Connector is stopping.");
        cancelSettle();
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
      service, rendezvous: createRendezvous(clock), clock, version: VERSION, broker: settings.broker,
      statusText: status.report, helpText, versionText, requestStop: () => void setTimeout(stop, 10), summary: status.summary,
    });
    const gets = new Map([["/metrics", scrape]]);
    servers.push(startApiServer({
      port: settings.apiPort, hostname, tls: tls?.material, routes, gets, controllers: () => controllers, clock, log, onRequest: metrics.recordApi, admit: gate.admitApi,
    }));
    if (settings.metricsPort !== undefined) {
      const anyone = createAccessList(undefined);
      servers.push(startApiServer({ port: settings.metricsPort, hostname: "127.0.0.1", routes: new Map(), gets, controllers: () => anyone, clock, log, admit: gate.admitApi }));
    }
    const threads = hosted.threads === 0 ? "on the control thread" : `on ${hosted.threads} relay thread${hosted.threads === 1 ? "" : "s"}`;
    log.info(
      `Connector ${VERSION} started: ${service.count} mappings relayed ${threads}, ${pool.available} of ${pool.size} ports free, ` +
        `API ${settings.dev ? "http" : "https"} on port ${servers[0]!.port}${settings.dev ? " (dev mode)" : ""}.`,
    );

    const reload = createReload({
      settings, clock, log,
      setTls(material) {
        relay.setTls(material);
        servers[0]!.setTls(material);
      },
      setControllers: (next) => void (controllers = next),
    });
    return { apiPort: servers[0]!.port, metricsPort: servers[1]?.port, service, relay: hosted, reload, stop, stopped };
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
