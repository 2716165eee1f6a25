// The mapping registry: ports from the pool, listeners from the relay, durability from the state file, kept in step.
import { randomUUID } from "node:crypto";
import type { Clock } from "../clock.ts";
import { DEFAULT_MAX_DIRECTS } from "../config/schema.ts";
import { ConnectorError, isConnectorError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { PortPool } from "../ports/pool.ts";
import type { MappingState, Relay, RelayMapping } from "../relay/types.ts";
import type { DirectRecord, Entry } from "../store/schema.ts";
import { createJournal, entryId } from "../store/journal.ts";
import { encodeEntry } from "../store/state-file.ts";
import { newMapping, type MappingRequest } from "./request.ts";
import { createPersistence } from "./persistence.ts";
import type { SharedLedger } from "./shared-ledger.ts";

export type { MappingRequest } from "./request.ts";
export type { SharedLedger } from "./shared-ledger.ts";

export interface MappingService {
  add(request: MappingRequest): Promise<RelayMapping>;
  remove(id: string): Promise<void>;
  get(id: string): RelayMapping | undefined;
  list(): RelayMapping[];
  state(id: string): MappingState | undefined;
  /** Port mappings only; direct records are not counted. */
  readonly count: number;
  readonly directCount: number;
  readonly availablePorts: number;
  readonly totalPorts: number;
  /** 507 past `maxDirects`. */
  addDirect(): Promise<DirectRecord>;
  removeDirect(id: string): Promise<void>;
  getDirect(id: string): DirectRecord | undefined;
  /** Records that an agent called this record's rendezvous, so that it never expires; a save that fails is tried again at the next call. */
  markDirectUsed(id: string): void;
  /** Stops the expiry sweep, then compacts the journal into the state file once the changes under way are saved. */
  close(): Promise<void>;
  /** Every mapping and direct record, for a comparison with the cluster's. */
  entries(): Entry[];
  /**
   * Takes on an entry another member committed (cluster mode): its ports are claimed and its listeners
   * opened with retry, and the local snapshot records it. Same entry already here, or one being changed here: no-op.
   */
  adopt(entry: Entry): Promise<void>;
  /** Drops an entry another member removed: listeners closed, ports freed, snapshot updated. Unknown id, or one being changed here: no-op. */
  forget(id: string): void;
}

/** Ports taken by other members at the same moment that one mapping/add tries before it gives up. */
const MAX_CLUSTER_CONFLICTS = 16;

/** A direct record no agent has called within this long after it was added is removed. */
export const DIRECT_UNUSED_EXPIRY_MS = 24 * 3_600_000;
const SWEEP_EVERY_MS = 60_000;
/** Port numbers, 0 to 65535. */
const PORTS = 65536;

export interface MappingServiceOptions {
  pool: PortPool;
  relay: Relay;
  stateFile: string;
  log: Logger;
  clock: Clock;
  /** The most direct records kept at once; 10,000 by default. */
  maxDirects?: number;
  /** Told of every journal append and how long it took. */
  onStateWrite?: (ok: boolean, seconds: number) => void;
  /** Journal size that triggers a compaction; see JournalOptions. */
  compactAt?: number;
  /** Cluster mode: changes are committed there first, and the state file is the member's snapshot. */
  shared?: SharedLedger;
}

/**
 * Builds the registry and reopens `restored` (entries from the state file): their ports are claimed
 * and their listeners opened with retry, so a port still held elsewhere comes up once it frees.
 */
export async function createMappingService(options: MappingServiceOptions, restored: Entry[]): Promise<MappingService> {
  const { pool, relay, log, clock } = options;
  const maxDirects = options.maxDirects ?? DEFAULT_MAX_DIRECTS;
  const entries = new Map<string, Entry>();
  const { shared } = options;
  /** Ids with a change under way here; what the cluster reports about them meanwhile is this change's own echo. */
  const busy = new Set<string>();
  /**
   * Which mapping holds each port, so that undoing one mapping never frees a port another one holds. Indexed by port:
   * at 9,000 mappings a Map of their 18,000 ports takes 3.4 MB, this array 0.5 MB whatever the count.
   */
  const owners: (string | undefined)[] = new Array(PORTS).fill(undefined);
  let mappingCount = 0;

  /** Sets `entry` in memory. */
  const put = (entry: Entry) => {
    const previous = entries.get(entryId(entry));
    entries.set(entryId(entry), entry);
    if (entry.kind === "mapping" && previous?.kind !== "mapping") mappingCount++;
    if (entry.kind === "mapping") for (const port of [entry.mapping.port1, entry.mapping.port2]) owners[port] = entry.mapping.id;
  };
  const drop = (id: string) => {
    const entry = entries.get(id);
    if (entry === undefined) return undefined;
    entries.delete(id);
    if (entry.kind === "mapping") {
      mappingCount--;
      for (const port of [entry.mapping.port1, entry.mapping.port2]) if (owners[port] === id) owners[port] = undefined;
    }
    return entry;
  };

  for (const entry of restored) {
    put(entry);
    if (entry.kind !== "mapping") continue;
    pool.claim(entry.mapping.port1);
    pool.claim(entry.mapping.port2);
  }
  const journal = createJournal(options.stateFile, entries.values(), {
    onWrite: options.onStateWrite,
    compactAt: options.compactAt,
    onError: (message) => log.error(message),
  });
  const persistence = createPersistence(journal, shared, log);
  /** Commits `entry`, already set in memory. */
  const save = (entry: Entry, update = false) => persistence.save(entry, update);
  const unsave = (entry: Entry) => persistence.remove(entry);
  await Promise.all(
    restored.flatMap((entry) => (entry.kind === "mapping" ? [relay.open(entry.mapping, { retry: true })] : [])),
  );

  /** Removes, durably, the direct records that no agent has called within DIRECT_UNUSED_EXPIRY_MS of being added. */
  async function sweep(): Promise<void> {
    const expired: Entry[] = [];
    for (const entry of entries.values()) {
      const since = entry.kind === "direct" ? entry.direct.unusedSince : undefined;
      if (since !== undefined && clock.now() - since >= DIRECT_UNUSED_EXPIRY_MS) expired.push(entry);
    }
    if (expired.length === 0) return;
    for (const entry of expired) drop(entryId(entry));
    await Promise.all(expired.map((entry) => commit(entryId(entry), () => unsave(entry), () => put(entry)))).then(
      () => log.info(`Removed ${expired.length} direct rendezvous never used within 24 h: ${expired.map(entryId).slice(0, 10).join(", ")}${expired.length > 10 ? ", …" : ""}.`),
      () => undefined, // logged by commit; the next sweep tries again
    );
  }
  let sweeping: Promise<void> | undefined;
  const runSweep = () => void (sweeping ??= sweep().finally(() => (sweeping = undefined)));
  runSweep();
  const stopSweep = clock.every(SWEEP_EVERY_MS, runSweep);

  /** Makes a change to `id` durable, or undoes it in memory and rethrows. */
  async function commit(id: string, save: () => Promise<void>, undo: () => void): Promise<void> {
    busy.add(id);
    try {
      await save();
    } catch (error) {
      undo();
      log.error(error instanceof Error ? error.message : String(error));
      throw error;
    } finally {
      busy.delete(id);
    }
  }
  /** Frees a port unless another mapping holds it (one another member committed while this one tried it). */
  const release = (port: number, id: string) => {
    const owner = owners[port];
    if (owner === undefined || owner === id) pool.release(port);
  };

  async function openOnFreePorts(request: MappingRequest, skip: Set<number>): Promise<RelayMapping> {
    for (;;) {
      const port1 = pool.take(skip);
      const port2 = port1 === undefined ? undefined : pool.take(skip);
      if (port1 === undefined || port2 === undefined) {
        if (port1 !== undefined) pool.release(port1);
        throw new ConnectorError("no_ports", "No enough available ports");
      }
      const mapping = newMapping(request, port1, port2);
      try {
        await relay.open(mapping, { retry: false });
        return mapping;
      } catch (error) {
        release(port1, mapping.id);
        release(port2, mapping.id);
        if (!isConnectorError(error, "port_in_use") || error.details.port === undefined) throw error;
        log.debug(`Port ${error.details.port} is held by another program; trying the next free port.`);
        skip.add(error.details.port);
      }
    }
  }

  return {
    async add(request) {
      shared?.check();
      const skip = new Set<number>();
      for (;;) {
        const mapping = await openOnFreePorts(request, skip);
        const entry: Entry = { kind: "mapping", mapping };
        try {
          put(entry);
          await commit(mapping.id, () => save(entry), () => {
            drop(mapping.id);
            relay.close(mapping.id);
            release(mapping.port1, mapping.id);
            release(mapping.port2, mapping.id);
          });
        } catch (error) {
          // Another member took one of the ports at the same moment: it will open it here too; try others.
          if (!isConnectorError(error, "port_in_use") || error.details.port === undefined || skip.size >= MAX_CLUSTER_CONFLICTS) throw error;
          log.debug(`${error.message} Trying other ports.`);
          skip.add(error.details.port);
          continue;
        }
        log.info(`Opened ${mapping.kind} mapping ${mapping.id} on ports ${mapping.port1} and ${mapping.port2}.`);
        return mapping;
      }
    },
    async remove(id) {
      shared?.check();
      const entry = entries.get(id);
      if (entry?.kind !== "mapping") throw new ConnectorError("not_found", `No mapping has the id ${id}.`);
      const { mapping } = entry;
      drop(id);
      await commit(id, () => unsave(entry), () => put(entry));
      await relay.close(id); // the ports are free once remove answers
      release(mapping.port1, id);
      release(mapping.port2, id);
      log.info(`Removed mapping ${id}; ports ${mapping.port1} and ${mapping.port2} are free again.`);
    },
    get(id) {
      const entry = entries.get(id);
      return entry?.kind === "mapping" ? entry.mapping : undefined;
    },
    list() {
      const out: RelayMapping[] = [];
      for (const entry of entries.values()) if (entry.kind === "mapping") out.push(entry.mapping);
      return out;
    },
    state: (id) => relay.state(id),
    get count() {
      return mappingCount;
    },
    get directCount() {
      return entries.size - mappingCount;
    },
    get availablePorts() {
      return pool.available;
    },
    get totalPorts() {
      return pool.size;
    },
    async addDirect() {
      if (entries.size - mappingCount >= maxDirects) {
        throw new ConnectorError("limit", `The Connector already keeps ${maxDirects} direct connections, the most it keeps ("maxDirects" in the settings); remove unused ones with direct/remove.`);
      }
      shared?.check();
      const direct: DirectRecord = { id: randomUUID(), passkey: randomUUID(), unusedSince: clock.now() };
      const entry: Entry = { kind: "direct", direct };
      put(entry);
      await commit(direct.id, () => save(entry), () => drop(direct.id));
      log.info(`Opened direct rendezvous ${direct.id}.`);
      return direct;
    },
    async removeDirect(id) {
      const entry = entries.get(id);
      shared?.check();
      if (entry?.kind !== "direct") throw new ConnectorError("not_found", `No direct connection has the id ${id}.`);
      drop(id);
      await commit(id, () => unsave(entry), () => put(entry));
      log.info(`Removed direct rendezvous ${id}.`);
    },
    getDirect(id) {
      const entry = entries.get(id);
      return entry?.kind === "direct" ? entry.direct : undefined;
    },
    markDirectUsed(id) {
      shared?.check();
      const entry = entries.get(id);
      if (entry?.kind !== "direct" || entry.direct.unusedSince === undefined) return;
      const used: Entry = { kind: "direct", direct: { id, passkey: entry.direct.passkey } };
      put(used);
      save(used, true).catch((error: Error) => {
        if (entries.has(id)) put(entry); // still unused on the disk: the next call saves it again
        log.error(`${error.message} Direct rendezvous ${id} was called; that is saved when it is next called.`);
      });
    },
    async close() {
      stopSweep();
      await sweeping;
      await journal.close();
    },
    entries: () => Array.from(entries.values()),
    async adopt(entry) {
      const id = entryId(entry);
      const previous = entries.get(id);
      if (busy.has(id) || (previous !== undefined && encodeEntry(previous) === encodeEntry(entry))) return;
      if (previous?.kind === "mapping") closeMapping(previous.mapping);
      put(entry);
      persistence.follow(id, entry);
      if (entry.kind !== "mapping") return;
      pool.claim(entry.mapping.port1);
      pool.claim(entry.mapping.port2);
      await relay.open(entry.mapping, { retry: true });
      log.info(`Opened ${entry.mapping.kind} mapping ${id} on ports ${entry.mapping.port1} and ${entry.mapping.port2}, added through another member.`);
    },
    forget(id) {
      if (busy.has(id) || !entries.has(id)) return;
      const entry = drop(id)!;
      persistence.follow(id, undefined);
      if (entry.kind !== "mapping") return;
      closeMapping(entry.mapping);
      log.info(`Removed mapping ${id} through another member; ports ${entry.mapping.port1} and ${entry.mapping.port2} are free again.`);
    },
  };

  function closeMapping(mapping: RelayMapping): void {
    relay.close(mapping.id);
    release(mapping.port1, mapping.id);
    release(mapping.port2, mapping.id);
  }
}
