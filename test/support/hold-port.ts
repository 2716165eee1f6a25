// Another process holding a TCP port on 127.0.0.1, as a program that is not the Connector would.
export interface HeldPort {
  port: number;
  /** Ends the holding process; safe to call again (disposal calls it too). */
  release(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function holdPort(port: number, hostname = "0.0.0.0"): Promise<HeldPort> {
  const child = Bun.spawn(
    [process.execPath, "-e", `Bun.listen({hostname:${JSON.stringify(hostname)},port:${port},socket:{data(){}}});console.log("ready");setInterval(()=>{},1000)`],
    { stdout: "pipe", stderr: "inherit" },
  );
  const reader = child.stdout.getReader();
  const deadline = setTimeout(() => child.kill(), 10_000);
  const { value } = await reader.read();
  clearTimeout(deadline);
  reader.releaseLock();
  if (!new TextDecoder().decode(value).includes("ready")) {
    child.kill();
    throw new Error(`could not hold port ${port}`);
  }
  const release = async () => {
    child.kill("SIGKILL");
    await child.exited;
  };
  return { port, release, [Symbol.asyncDispose]: release };
}
