// Machines for a failover test: a network namespace per Connector, joined by veth pairs to a bridge in this
// namespace, and a floating address the test moves between them as keepalived would. Needs root.
export interface FloatingNet {
  /** This namespace's address on the bridge: etcd, agents and clients are here. */
  hostAddress: string;
  /** Each machine's namespace and own address. */
  machines: { ns: string; address: string }[];
  floating: string;
  /** The command line that runs `command` on machine `index`. */
  on(index: number, command: string[]): string[];
  /** Takes the floating address off every other machine and puts it on `index`. */
  moveFloating(index: number): void;
  [Symbol.dispose](): void;
}

export function createFloatingNet(count = 2): FloatingNet {
  const tag = `iof${process.pid % 100000}`;
  const subnet = `10.253.${1 + (process.pid % 250)}`;
  const bridge = `${tag}br`;
  const machines = Array.from({ length: count }, (_, i) => ({ ns: `${tag}m${i}`, address: `${subnet}.${10 + i}`, link: `${tag}v${i}` }));
  const floating = `${subnet}.100`;
  const sh = (command: string[]) => {
    const result = Bun.spawnSync(command, { timeout: 10_000, stderr: "pipe" });
    return { code: result.exitCode ?? -1, stderr: result.stderr.toString() };
  };
  const must = (command: string[]) => {
    const result = sh(command);
    if (result.code !== 0) throw new Error(`${command.join(" ")}: ${result.stderr}`);
  };
  const dispose = () => {
    for (const m of machines) {
      sh(["ip", "link", "del", `${m.link}h`]);
      sh(["ip", "netns", "del", m.ns]);
    }
    sh(["ip", "link", "del", bridge]);
  };
  dispose();
  try {
    must(["ip", "link", "add", bridge, "type", "bridge"]);
    must(["ip", "addr", "add", `${subnet}.1/24`, "dev", bridge]);
    must(["ip", "link", "set", bridge, "up"]);
    for (const m of machines) {
      must(["ip", "netns", "add", m.ns]);
      must(["ip", "link", "add", `${m.link}h`, "type", "veth", "peer", "name", `${m.link}n`]);
      must(["ip", "link", "set", `${m.link}n`, "netns", m.ns]);
      must(["ip", "link", "set", `${m.link}h`, "master", bridge, "up"]);
      must(["ip", "netns", "exec", m.ns, "ip", "addr", "add", `${m.address}/24`, "dev", `${m.link}n`]);
      must(["ip", "netns", "exec", m.ns, "ip", "link", "set", `${m.link}n`, "up"]);
      must(["ip", "netns", "exec", m.ns, "ip", "link", "set", "lo", "up"]);
    }
    // A veth pair takes a moment to carry traffic after it is set up.
    for (const m of machines) {
      const deadline = Date.now() + 5000;
      const state = () => Bun.spawnSync(["cat", `/sys/class/net/${m.link}h/operstate`]).stdout.toString().trim();
      while (state() !== "up" && Date.now() < deadline) Bun.sleepSync(50);
      if (state() !== "up") throw new Error(`the link to ${m.ns} did not come up`);
    }
  } catch (error) {
    dispose();
    throw error;
  }
  return {
    hostAddress: `${subnet}.1`,
    machines: machines.map(({ ns, address }) => ({ ns, address })),
    floating,
    on: (index, command) => ["ip", "netns", "exec", machines[index]!.ns, ...command],
    moveFloating(index) {
      machines.forEach((m, i) => {
        if (i !== index) sh(["ip", "netns", "exec", m.ns, "ip", "addr", "del", `${floating}/24`, "dev", `${m.link}n`]);
      });
      const m = machines[index]!;
      must(["ip", "netns", "exec", m.ns, "ip", "addr", "add", `${floating}/24`, "dev", `${m.link}n`]);
      // keepalived announces the move with gratuitous ARP; forgetting the old neighbour entry here has the same effect.
      sh(["ip", "neigh", "flush", "to", floating]);
    },
    [Symbol.dispose]: dispose,
  };
}
