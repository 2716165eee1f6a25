// Whether something accepts TCP connections on a loopback port yet.

export async function connectable(port: number): Promise<boolean> {
  try {
    const socket = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
    socket.end();
    return true;
  } catch {
    return false; // refused: nothing listens yet
  }
}
