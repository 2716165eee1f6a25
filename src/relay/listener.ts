// Binding a relay port: at once or by retrying every bindRetryMs, and again with a new certificate on reload.
import type { SocketHandler } from "bun";
import type { Conn } from "./conn.ts";
import type { RelayContext } from "./context.ts";
import type { RelayPort } from "./mapping.ts";

export interface Binder {
  /** Binds the port now; returns why it could not be bound, or undefined once it listens. */
  bind(port: RelayPort): string | undefined;
  /** Retries binding every bindRetryMs until it succeeds or the port is unbound. */
  retry(port: RelayPort): void;
  /** Stops listening (connections already accepted stay) and cancels any retry. */
  unbind(port: RelayPort): void;
  /** Listens again with the relay's current TLS material; connections already accepted stay as they are. */
  rebind(port: RelayPort): void;
}

export function createBinder(ctx: RelayContext, handler: SocketHandler<Conn>): Binder {
  const bind = (port: RelayPort): string | undefined => {
    const tls = ctx.tls;
    try {
      port.listener = Bun.listen<Conn>({
        hostname: ctx.hostname,
        port: port.number,
        // Each accepted socket starts with the listener's data; `open` swaps it for the socket's own Conn.
        data: port as unknown as Conn,
        socket: handler,
        tls: tls === undefined ? undefined : { cert: tls.cert, key: tls.key },
      });
      port.tls = tls !== undefined;
      return undefined;
    } catch (error) {
      port.listener = null;
      return error instanceof Error ? error.message : String(error);
    }
  };

  const retry = (port: RelayPort): void => {
    if (port.stopRetry !== null) return;
    port.stopRetry = ctx.clock.every(ctx.bindRetryMs, () => {
      if (bind(port) !== undefined) return;
      port.stopRetry?.();
      port.stopRetry = null;
      ctx.log.info(`Mapping ${port.mapping.id}: port ${port.number} is bound now.`);
    });
  };

  const unbind = (port: RelayPort): void => {
    port.stopRetry?.();
    port.stopRetry = null;
    port.listener?.stop(false);
    port.listener = null;
  };

  return {
    bind,
    retry,
    unbind,
    rebind(port) {
      if (port.listener === null) return;
      // Bun cannot swap the certificate of a listening socket, so the port is closed and bound again in
      // the same turn; should something take the port in between, it is retried like a port at restore.
      unbind(port);
      const why = bind(port);
      if (why === undefined) return;
      ctx.log.warn(`Mapping ${port.mapping.id}: port ${port.number} could not be bound again after the certificate reload (${why}); retrying every ${ctx.bindRetryMs} ms.`);
      retry(port);
    },
  };
}
