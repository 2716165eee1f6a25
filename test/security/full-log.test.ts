// Item 9: a full log disk breaks nothing: the API answers, SIGTERM stops the daemon, the loss is counted and reported.
import { describe, expect, test } from "bun:test";
import { appendFileSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { instance } from "../support/executable.ts";
import { canMount, mountTmpfs } from "../support/tmpfs.ts";

const PUBLIC = JSON.stringify({ type: "public", maxconnections: 60, heartbeatabsencethreshold: 0 });

/** Fills the file system to the last byte, the log file's last block included. */
function fill(dir: string, logFile: string): void {
  try {
    writeFileSync(join(dir, "filler"), Buffer.alloc(512 * 1024));
  } catch {
    // ENOSPC: the filler holds what fitted
  }
  try {
    appendFileSync(logFile, `${"#".repeat(16 * 1024)}\n`);
  } catch {
    // ENOSPC: the log file's last block is full too
  }
}

const within = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([promise, Bun.sleep(ms).then(() => "timed out" as const)]);

describe.skipIf(!canMount)("a full log disk", () => {
  test("the API answers, lines are counted and reported once space is back, SIGTERM still stops the daemon", async () => {
    using fs = mountTmpfs(256);
    await using i = instance({ logDir: fs.path });
    const logFile = join(fs.path, "iofog-connector.log");
    const child = await i.start();
    fill(fs.path, logFile);

    const post = (path: string, fields: Record<string, string>) =>
      fetch(`${i.url}${path}`, { method: "POST", body: new URLSearchParams(fields) }).then(async (r) => ({ status: r.status, text: await r.text() }));
    const added = await post("/api/v2/mapping/add", { mapping: PUBLIC });
    expect(added.status).toBe(200);
    const mapping = JSON.parse(added.text);
    expect(mapping.status).toBe("ok");
    const removed = await post("/api/v2/mapping/remove", { mappingid: mapping.id });
    expect(removed.status).toBe(200);
    expect((await i.post("/api/v2/mapping/list", {})).mappings).toEqual([]);
    const metrics = await fetch(`${i.url}/metrics`).then((r) => r.text());
    const dropped = Number(/^iofog_connector_log_write_failures_total (\d+)$/m.exec(metrics)?.[1]);
    expect(dropped).toBeGreaterThanOrEqual(2);

    rmSync(join(fs.path, "filler"));
    expect((await post("/api/v2/mapping/add", { mapping: PUBLIC })).status).toBe(200);
    const log = readFileSync(logFile, "utf8");
    const report = log.split("\n").filter((line) => line.includes("could not be written to"));
    expect(report).toHaveLength(1);
    expect(report[0]).toMatch(/\[WARN\] \d+ log lines could not be written to .*iofog-connector\.log \(ENOSPC\) and were dropped/);
    expect(log).toContain("[INFO] Opened public mapping");

    fill(fs.path, logFile);
    child.kill("SIGTERM");
    expect(await within(child.exited, 10_000)).toBe(0);
    const stdout = await new Response(child.stdout).text();
    expect(stdout).toContain("cannot be written (ENOSPC); its lines are dropped until it can");
    expect(stdout).toContain("Connector stopped.");
    console.log(`full log disk: add and remove answered 200, ${dropped} lines dropped and counted, reported once space was back, SIGTERM exit 0`);
  });
});
