// The contract between the mapping service and a store shared by several Connectors (cluster mode).
import type { Entry } from "../store/schema.ts";

/**
 * Where changes are committed before the local snapshot in cluster mode (etcd): put and remove reject with
 * ConnectorError "unavailable" when it cannot be reached, "port_in_use" (with the port) when another member took a port.
 */
export interface SharedLedger {
  /** Throws ConnectorError("unavailable") when changes cannot be committed now. */
  check(): void;
  /** `update`: the entry exists and changes (a direct record that was called); otherwise it is created. */
  put(entry: Entry, update: boolean): Promise<void>;
  remove(entry: Entry): Promise<void>;
}
