import { describe, expect, test } from "bun:test";
import { parseCidr } from "../../src/config/schema.ts";
import { startTestDaemon } from "../support/daemon.ts";
import { canCreateHosts, createTestHost } from "../support/netns.ts";

/** POSTs a form from inside the test host with curl; returns the HTTP status and body. */
async function postFromHost(host: ReturnType<typeof createTestHost>, url: string, body: string) {
  const result = await host.run(["curl", "-s", "-m", "10", "-o", "-", "-w", "\n%{http_code}", "-X", "POST", "--data", body, url]);
  const lines = result.stdout.trimEnd().split("\n");
  return { status: Number(lines.pop()), body: lines.join("\n") };
}

describe.skipIf(!canCreateHosts)("callers that are not on this machine", () => {
  test("commandline answers 403 to a remote caller and does not stop; allowedControllers admits only its addresses", async () => {
    using host = createTestHost();
    const opts = { hostname: host.hostAddress };
    await using open = await startTestDaemon({}, opts);
    const url = `http://${host.hostAddress}:${open.daemon.apiPort}`;
    const stop = await postFromHost(host, `${url}/api/v2/commandline`, "command=stop");
    expect(stop.status).toBe(403);
    expect(JSON.parse(stop.body).errormessage).toContain("not allowed");
    const status = await postFromHost(host, `${url}/api/v2/status`, "mappingid=all");
    expect(status.status).toBe(200);
    expect(JSON.parse(status.body).status).toBe("running");

    await using guarded = await startTestDaemon({ allowedControllers: [parseCidr("192.0.2.0/24")!] }, opts);
    const refused = await postFromHost(host, `http://${host.hostAddress}:${guarded.daemon.apiPort}/api/v2/mapping/add`, `mapping=${encodeURIComponent(JSON.stringify({ type: "public", maxconnections: 1, heartbeatabsencethreshold: 0 }))}`);
    expect(refused.status).toBe(403);
    expect(guarded.daemon.service.count).toBe(0);

    await using admitted = await startTestDaemon({ allowedControllers: [parseCidr(`${host.peerAddress.replace(/\d+$/, "0")}/30`)!] }, opts);
    const added = await postFromHost(host, `http://${host.hostAddress}:${admitted.daemon.apiPort}/api/v2/mapping/add`, `mapping=${encodeURIComponent(JSON.stringify({ type: "public", maxconnections: 1, heartbeatabsencethreshold: 0 }))}`);
    expect(added.status).toBe(200);
    console.log(`remote callers (from ${host.peerAddress}): commandline stop 403, status 200; allowedControllers: outside 403, inside 200`);
  }, 60_000);
});
