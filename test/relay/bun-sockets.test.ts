// The properties of Bun's sockets that the pipe relies on, checked so that a Bun upgrade that changes them fails here first.
import { expect, test } from "bun:test";
import type { Socket } from "bun";
import { makeTestCert } from "../support/tls.ts";
import { within } from "../support/endpoint.ts";

interface Side {
  chunks: Uint8Array[];
  received: number;
}

for (const tls of [false, true]) {
  const mode = tls ? "TLS" : "plain";

  test(`${mode}: each data callback gets a buffer of its own, and pause() really stops reading`, async () => {
    using cert = makeTestCert();
    const listenData = { marker: true } as unknown as Side;
    const accepted: Socket<Side>[] = [];
    let sharedAtOpen = 0;
    const server = Bun.listen<Side>({
      hostname: "127.0.0.1",
      port: 0,
      data: listenData,
      tls: tls ? { cert: cert.cert, key: cert.key } : undefined,
      socket: {
        open(socket) {
          if (socket.data === listenData) sharedAtOpen++;
          socket.data = { chunks: [], received: 0 };
          accepted.push(socket);
        },
        data(socket, chunk) {
          socket.data.chunks.push(chunk);
          socket.data.received += chunk.length;
        },
      },
    });
    const ready = Promise.withResolvers<void>();
    const drained: (() => void)[] = [];
    const client = await Bun.connect({
      hostname: "127.0.0.1",
      port: server.port,
      tls: tls ? { ca: cert.cert } : undefined,
      socket: {
        open: () => void (tls || ready.resolve()),
        handshake: () => ready.resolve(),
        data() {},
        drain: () => drained.shift()?.(),
      },
    });
    try {
      await within(5000, "connected", ready.promise);
      const deadline0 = Date.now() + 5000;
      while (accepted.length === 0 && Date.now() < deadline0) await Bun.sleep(2);
      // The listener's data is what every accepted socket starts with.
      expect(sharedAtOpen).toBe(1);

      // 16 MiB with a known pattern, written as fast as the socket takes it.
      const total = 16 << 20;
      const source = new Uint8Array(total);
      for (let i = 0; i < total; i++) source[i] = (i * 31 + (i >>> 13)) & 255;
      let offset = 0;
      while (offset < total) {
        const slice = source.subarray(offset, offset + (1 << 20));
        const n = client.write(slice);
        expect(n).toBeGreaterThanOrEqual(0);
        offset += n;
        if (n < slice.length) await within(5000, "drain", new Promise<void>((resolve) => drained.push(resolve)));
      }
      const server1 = accepted[0]!;
      const deadline = Date.now() + 10_000;
      while (server1.data.received < total && Date.now() < deadline) await Bun.sleep(2);
      // Kept without copying, every chunk still holds what was sent: Bun did not reuse a buffer.
      let at = 0;
      for (const chunk of server1.data.chunks) {
        expect(Buffer.from(chunk).equals(Buffer.from(source.subarray(at, at + chunk.length)))).toBe(true);
        at += chunk.length;
      }
      expect(at).toBe(total);
      expect(new Set(server1.data.chunks.map((c) => c.buffer)).size).toBe(server1.data.chunks.length);

      // Paused, the server reads nothing and the client's writes fall short: flow control reaches the sender.
      server1.pause();
      const before = server1.data.received;
      let sent = 0;
      for (let i = 0; i < 64; i++) {
        const n = client.write(source.subarray(0, 1 << 20));
        sent += Math.max(0, n);
        if (n < 1 << 20) break;
      }
      await Bun.sleep(50);
      expect(sent).toBeLessThan(64 << 20);
      expect(server1.data.received).toBe(before);
      server1.resume();
      const deadline2 = Date.now() + 5000;
      while (server1.data.received < before + sent && Date.now() < deadline2) await Bun.sleep(2);
      expect(server1.data.received).toBe(before + sent);
    } finally {
      client.terminate();
      server.stop(true);
    }
  }, 20_000);
}
