// Small network helpers for scripts/test-packages.sh: free ports, a stand-in for the 1.x
// Java daemon, and one relayed connection through a running Connector.
// Usage:
//   bun test/packaging/relay-check.ts free-ports N MIN MAX
//   bun test/packaging/relay-check.ts hold-port PORT [ignored...]
//   bun test/packaging/relay-check.ts list API_URL
//   bun test/packaging/relay-check.ts relay API_URL [--add | PORT1 PORT2 PASSCODE]
// Every wait is bounded; loopback addresses only.
import type { Socket } from "bun";

const HOST = "127.0.0.1";
const STEP_MS = 10_000;

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

function within<T>(promise: Promise<T>, what: string, ms = STEP_MS): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms).unref()),
  ]);
}

/** Ports in [min, max] that nothing holds, on the wildcard address the Connector binds. */
async function freePorts(count: number, min: number, max: number): Promise<number[]> {
  const found: number[] = [];
  for (let tries = 0; found.length < count && tries < 500; tries++) {
    const port = min + Math.floor(Math.random() * (max - min + 1));
    if (found.includes(port)) continue;
    try {
      const listener = Bun.listen({ hostname: "0.0.0.0", port, socket: { data() {} } });
      listener.stop(true);
      found.push(port);
    } catch {
      // held by something else: try another
    }
  }
  if (found.length < count) fail(`found only ${found.length} free ports in ${min}-${max}`);
  return found;
}

async function post(api: string, path: string, fields: Record<string, string>): Promise<Record<string, any>> {
  const response = await within(
    fetch(`${api}${path}`, { method: "POST", body: new URLSearchParams(fields), signal: AbortSignal.timeout(STEP_MS) }),
    `POST ${path}`,
  );
  const body = (await response.json()) as Record<string, any>;
  if (!response.ok || body.errormessage) fail(`POST ${path}: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

/** A TCP client that collects what it reads, for checks of exact bytes. */
interface Peer {
  socket: Socket<undefined>;
  received: () => string;
  waitFor: (text: string, what: string) => Promise<void>;
}

async function connectPeer(port: number): Promise<Peer> {
  let buffer = "";
  let closed = false;
  let waiter: (() => void) | undefined;
  const socket = await within(
    Bun.connect({
      hostname: HOST,
      port,
      socket: {
        data(_socket, chunk) {
          buffer += Buffer.from(chunk).toString("latin1");
          waiter?.();
        },
        close() {
          closed = true;
          waiter?.();
        },
      },
    }),
    `connect to ${port}`,
  );
  return {
    socket,
    received: () => buffer,
    waitFor: (text, what) =>
      within(
        new Promise<void>((resolve, reject) => {
          const check = () => {
            if (buffer.includes(text)) resolve();
            else if (closed) reject(new Error(`closed before ${what} (got ${JSON.stringify(buffer)})`));
          };
          waiter = check;
          check();
        }),
        what,
      ),
  };
}

/** An agent on port1 with the passcode, a public client on port2, bytes both ways. */
async function relay(port1: number, port2: number, passcode: string): Promise<void> {
  if (passcode.length !== 36) fail(`a passcode has 36 characters, not ${passcode.length}`);
  const agent = await connectPeer(port1);
  agent.socket.write(passcode);
  await agent.waitFor("AUTHORIZED", "AUTHORIZED on the agent port");
  console.log(`agent on ${port1}: AUTHORIZED`);
  const client = await connectPeer(port2);
  client.socket.write("hello from the public side");
  await agent.waitFor("hello from the public side", "client bytes at the agent");
  agent.socket.write("hello from the fog node");
  await client.waitFor("hello from the fog node", "agent bytes at the client");
  console.log(`client on ${port2}: bytes relayed both ways`);
  client.socket.end();
  agent.socket.end();
}

const [command, ...args] = process.argv.slice(2);
try {
  switch (command) {
    case "free-ports": {
      const [count, min, max] = args.map(Number);
      console.log((await freePorts(count!, min!, max!)).join(" "));
      break;
    }
    case "hold-port": {
      const listener = Bun.listen({ hostname: "0.0.0.0", port: Number(args[0]), socket: { data() {} } });
      const stop = () => {
        listener.stop(true);
        process.exit(0);
      };
      process.on("SIGTERM", stop);
      process.on("SIGINT", stop);
      setTimeout(stop, 300_000); // never outlives a test run
      break;
    }
    case "list": {
      const body = await post(args[0]!, "/api/v2/mapping/list", {});
      for (const m of body.mappings) console.log(`${m.id} ${m.type} ${m.port1} ${m.port2}`);
      break;
    }
    case "relay": {
      const api = args[0]!;
      if (args[1] === "--add") {
        const mapping = JSON.stringify({ type: "public", maxconnections: 60, heartbeatabsencethreshold: 200000 });
        const added = await post(api, "/api/v2/mapping/add", { mapping });
        console.log(`mapping ${added.id}: ports ${added.port1}/${added.port2}`);
        await relay(added.port1, added.port2, added.passcode1);
      } else {
        await relay(Number(args[1]), Number(args[2]), args[3] ?? "");
      }
      process.exit(0);
    }
    default:
      fail(`unknown command ${command ?? ""}`);
  }
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
