// Binding a relay port: at once, or by retrying every bindRetryMs. Every port listens as plain TCP; TLS is
// taken up per connection at accept (session.ts), so that the record boundaries can be seen.
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
}

/** @param handler the accepting handler for plain ports and for TLS ports (before the upgrade). */
export function createBinder(ctx: RelayContext, handler: (tls: boolean) => SocketHandler<Conn>): Binder {
  const bind = (port: RelayPort): string | undefined => {
    const tls = ctx.tls !== undefined;
    try {
      port.listener = Bun.listen<Conn>({
        hostname: ctx.hostname,
        port: port.number,
        // Each accepted socket starts with the listener's data; `open` swaps it for the socket's own Conn.
        data: port as unknown as Conn,
        socket: handler(tls),
        // A FIN is relayed as a FIN (half-close), not answered by closing (see pipe.ended).
        allowHalfOpen: true,
      });
      port.tls = tls;
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

  return { bind, retry, unbind };
}
