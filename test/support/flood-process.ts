// Run by idle.ts flood(): `flood-process.ts PORT LOCAL_ADDRESS OPEN`; on SIGTERM prints {"made","ms"} and exits.
import { connect } from "node:net";

const [port, localAddress, open] = process.argv.slice(2) as [string, string, string];
const began = performance.now();
let made = 0;
let stopping = false;

const dial = (): void => {
  if (stopping) return;
  made++;
  const socket = connect({ host: "127.0.0.1", port: Number(port), localAddress });
  socket.on("error", () => {});
  socket.on("close", dial);
};

process.on("SIGTERM", () => {
  stopping = true;
  process.stdout.write(`${JSON.stringify({ made, ms: Math.round(performance.now() - began) })}\n`);
  process.exit(0);
});
for (let i = 0; i < Number(open); i++) dial();
