// The relay engine: serves each mapping's two ports, and answers the control plane's open, close, state, reload and shutdown.
import { ConnectorError } from "../errors.ts";
import type { Conn } from "./conn.ts";
import { createContext } from "./context.ts";
import { createBinder } from "./listener.ts";
import { MappingRuntime } from "./mapping.ts";
import { createPairing, type Pairing } from "./pairing.ts";
import { createPipe } from "./pipe.ts";
import { createSocketHandlers } from "./session.ts";
import { createSweeper } from "./sweep.ts";
import { serverTls } from "./tls.ts";
import type { LocalRelay, RelayOptions } from "./types.ts";

/** Builds a relay engine; nothing listens until open() is called for a mapping. */
export function createRelay(options: RelayOptions): LocalRelay {
  const ctx = createContext(options);
  const { log } = ctx;
  let pairing: Pairing | undefined;
  const pipe = createPipe(ctx, (conn) => pairing!.partnerGone(conn));
  pairing = createPairing(ctx, pipe);
  const handlers = createSocketHandlers(ctx, pipe, pairing);
  const binder = createBinder(ctx, (tls) => (tls ? handlers.tlsAccept : handlers.plain));
  const sweeper = createSweeper(ctx, pipe);
  let stopped: Promise<void> | undefined;

  const connections = (): Conn[] => {
    const all: Conn[] = [];
    for (const mapping of ctx.mappings.values()) for (const port of mapping.ports) all.push(...port.conns);
    return all;
  };

  /** Whether bytes read from its partner are still queued for this connection. */
  const owed = (conn: Conn): boolean => {
    const peer = conn.peer;
    return peer !== null && peer.peer === conn && peer.unsent !== null;
  };

  const stop = (graceMs: number, done: () => void): void => {
    ctx.stopping = true;
    for (const mapping of ctx.mappings.values()) for (const port of mapping.ports) binder.unbind(port);
    let cancelGrace: (() => void) | undefined;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      cancelGrace?.();
      ctx.onAllClosed = null;
      ctx.mappings.clear();
      sweeper.update();
      done();
    };
    ctx.onAllClosed = finish;
    const all = connections();
    // Read nothing more; close at once what is owed nothing, the rest once their queue is written (see pipe.drain).
    for (const conn of all) pipe.updateReading(conn);
    for (const conn of all) if (!owed(conn)) pipe.drop(conn);
    if (ctx.connections === 0) return finish();
    const dropRest = () => {
      for (const conn of connections()) conn.socket.terminate();
      finish();
    };
    if (graceMs <= 0) dropRest();
    else cancelGrace = ctx.clock.after(graceMs, dropRest);
  };

  return {
    async open(mapping, { retry }) {
      if (ctx.stopping) throw new ConnectorError("internal", "The relay is shutting down.");
      if (ctx.mappings.has(mapping.id)) throw new ConnectorError("conflict", `Mapping ${mapping.id} is already open.`);
      const runtime = new MappingRuntime(mapping);
      for (const port of runtime.ports) {
        const why = binder.bind(port);
        if (why === undefined) continue;
        if (!retry) {
          for (const bound of runtime.ports) binder.unbind(bound);
          throw new ConnectorError("port_in_use", `Port ${port.number} cannot be bound: ${why}.`, { port: port.number });
        }
        log.warn(`Mapping ${mapping.id}: port ${port.number} cannot be bound yet (${why}); retrying every ${ctx.bindRetryMs} ms.`);
        binder.retry(port);
      }
      ctx.mappings.set(mapping.id, runtime);
      sweeper.update();
    },

    close(id) {
      const mapping = ctx.mappings.get(id);
      if (mapping === undefined) return;
      mapping.closing = true;
      for (const port of mapping.ports) binder.unbind(port);
      for (const port of mapping.ports) for (const conn of port.conns) pipe.drop(conn);
      ctx.mappings.delete(id);
      sweeper.update();
    },

    state: (id) => ctx.mappings.get(id)?.snapshot(),

    live: (id) => ctx.mappings.get(id),

    states: () => Array.from(ctx.mappings.values(), (mapping) => mapping.snapshot()),

    get connections() {
      return ctx.connections;
    },

    setTls(tls) {
      // Taken up by connections accepted from now on; the ports stay bound.
      ctx.tls = serverTls(tls);
    },

    shutdown(graceMs) {
      return (stopped ??= new Promise<void>((resolve) => stop(graceMs, resolve)));
    },
  };
}
