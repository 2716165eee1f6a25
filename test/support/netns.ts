// A test host in a network namespace of its own, joined to this machine by a veth pair, so that a
// request can come from an address that is not loopback. Needs root, as CI has.
export interface TestHost {
  /** The namespace's name, for `ip netns exec NAME ...`. */
  name: string;
  /** This machine's end of the link: listen here. */
  hostAddress: string;
  /** The namespace's address: requests from it are not from loopback. */
  peerAddress: string;
  /** Runs a command inside the namespace without blocking this process (a server in it must answer). */
  run(command: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  [Symbol.dispose](): void;
}

export const canCreateHosts = process.getuid?.() === 0 && Bun.spawnSync(["ip", "netns", "list"]).exitCode === 0;

export function createTestHost(): TestHost {
  const tag = `iofog${process.pid % 100000}`;
  const name = `${tag}ns`;
  const octet = 1 + (process.pid % 250);
  const hostAddress = `10.251.${octet}.1`;
  const peerAddress = `10.251.${octet}.2`;
  const sh = (command: string[]) => {
    const result = Bun.spawnSync(command, { timeout: 10_000 });
    return { code: result.exitCode ?? -1, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
  };
  const must = (command: string[]) => {
    const result = sh(command);
    if (result.code !== 0) throw new Error(`${command.join(" ")}: ${result.stderr}`);
  };
  const dispose = () => {
    sh(["ip", "link", "del", `${tag}h`]);
    sh(["ip", "netns", "del", name]);
  };
  dispose();
  try {
    must(["ip", "netns", "add", name]);
    must(["ip", "link", "add", `${tag}h`, "type", "veth", "peer", "name", `${tag}n`]);
    must(["ip", "link", "set", `${tag}n`, "netns", name]);
    must(["ip", "addr", "add", `${hostAddress}/30`, "dev", `${tag}h`]);
    must(["ip", "link", "set", `${tag}h`, "up"]);
    must(["ip", "netns", "exec", name, "ip", "addr", "add", `${peerAddress}/30`, "dev", `${tag}n`]);
    must(["ip", "netns", "exec", name, "ip", "link", "set", `${tag}n`, "up"]);
    must(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"]);
    // A veth pair takes a moment to carry traffic after it is set up.
    const deadline = Date.now() + 5000;
    while (readState(`${tag}h`) !== "up" && Date.now() < deadline) Bun.sleepSync(50);
    if (readState(`${tag}h`) !== "up") throw new Error(`the link to ${name} did not come up`);
  } catch (error) {
    dispose();
    throw error;
  }
  return {
    name,
    hostAddress,
    peerAddress,
    async run(command) {
      const child = Bun.spawn(["ip", "netns", "exec", name, ...command], { stdout: "pipe", stderr: "pipe", timeout: 20_000 });
      const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
      return { code, stdout, stderr };
    },
    [Symbol.dispose]: dispose,
  };
}

function readState(link: string): string {
  const result = Bun.spawnSync(["cat", `/sys/class/net/${link}/operstate`]);
  return result.stdout.toString().trim();
}
