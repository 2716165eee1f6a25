// SIGHUP: re-reads the settings file and applies what can change while running; the rest waits for a restart.
import type { AccessList } from "../api/access.ts";
import { createAccessList } from "../api/access.ts";
import type { Clock } from "../clock.ts";
import { loadSettings, type Settings } from "../config/load.ts";
import { loadTls } from "../config/tls.ts";
import type { ClosableLogger } from "../log.ts";
import type { TlsMaterial } from "../relay/types.ts";
import { warnExpiry } from "./notices.ts";

/** Settings that a running daemon keeps until it is restarted. */
const FIXED = ["ports", "exclude", "dev", "apiPort", "stateFile", "logDir", "broker", "maxDirects", "metricsPerMappingRejects", "relayThreads", "cluster"] as const;

export interface ReloadTargets {
  settings: Settings;
  clock: Clock;
  log: ClosableLogger;
  /** Where a new certificate and key go: the relay and the API server. */
  setTls(tls: TlsMaterial): void;
  setControllers(controllers: AccessList): void;
}

/**
 * Builds the reload: certificate and key, allowedControllers, logLevel. On any error the old values stay and the
 * reason is logged; returns whether the new settings were applied.
 */
export function createReload(targets: ReloadTargets): () => boolean {
  const { settings, clock, log } = targets;
  return () => {
    try {
      const next = loadSettings(settings.file);
      const nextTls = next.dev ? undefined : loadTls(next.certFile, next.keyFile, clock.now());
      const nextControllers = createAccessList(next.allowedControllers);
      if (nextTls && !settings.dev) {
        targets.setTls(nextTls.material);
        warnExpiry(nextTls.validTo, next.certFile, clock, log);
      }
      targets.setControllers(nextControllers);
      log.setLevel(next.logLevel);
      const fixed = FIXED.filter((key) => JSON.stringify(next[key]) !== JSON.stringify(settings[key]));
      if (fixed.length > 0) log.warn(`Settings reloaded; ${fixed.join(", ")} changed and take effect after a restart.`);
      else log.info("Settings reloaded: certificate, allowedControllers and logLevel applied.");
      return true;
    } catch (error) {
      log.error(`Reload failed, the previous settings stay in force: ${error instanceof Error ? error.message : String(error)}`);
      return false;
    }
  };
}
