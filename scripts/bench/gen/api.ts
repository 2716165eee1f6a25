// Control-plane load: one client looping on mapping/list, GET /metrics and commandline status until told to stop.
import { emit, onCommands } from "./io.ts";

export interface ApiSpec {
  role: "api";
  /** Scheme, address and port of the Connector's API. */
  base: string;
}

export async function runApi(spec: ApiSpec): Promise<void> {
  let stopped = false;
  onCommands((line) => line === "stop" && (stopped = true));
  const form = { "content-type": "application/x-www-form-urlencoded" };
  const calls = [
    () => fetch(`${spec.base}/api/v2/mapping/list`, { method: "POST", headers: form, body: "" }),
    () => fetch(`${spec.base}/metrics`),
    () => fetch(`${spec.base}/api/v2/commandline`, { method: "POST", headers: form, body: "command=status" }),
  ];
  const answered = [0, 0, 0];
  let bytes = 0;
  emit("ready");
  while (!stopped) {
    for (let i = 0; i < calls.length && !stopped; i++) {
      const response = await calls[i]!();
      bytes += (await response.arrayBuffer()).byteLength;
      if (response.status !== 200) throw new Error(`call ${i} answered ${response.status}`);
      answered[i]!++;
    }
  }
  emit("done", { list: answered[0], metrics: answered[1], status: answered[2], bytes });
}
