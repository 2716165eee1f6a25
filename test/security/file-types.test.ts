// Item 11: files that are not regular files are refused with one line (never a hang), and links are written through.
import { describe, expect, test } from "bun:test";
import { lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadState } from "../../src/store/journal.ts";
import { instance } from "../support/executable.ts";
import { makeTestCert } from "../support/tls.ts";

const PUBLIC = JSON.stringify({ type: "public", maxconnections: 60, heartbeatabsencethreshold: 0 });
const FIFO = "is a named pipe (FIFO), not a regular file";

function mkfifo(path: string): string {
  const made = Bun.spawnSync(["mkfifo", path]);
  if (made.exitCode !== 0) throw new Error(`mkfifo failed: ${made.stderr.toString()}`);
  return path;
}

/** The one line a refused command prints (on stderr, or on stdout through the log when the daemon refuses). */
function oneLine(result: { stdout: string; stderr: string }): string {
  const lines = (result.stdout + result.stderr).trim().split("\n");
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

describe("files that are not regular files", () => {
  test("a settings file that is a FIFO: start and status answer at once with one line, exit 1", async () => {
    await using i = instance();
    mkfifo(`${i.config}.fifo`);
    const settings = readFileSync(i.config, "utf8");
    Bun.spawnSync(["mv", `${i.config}.fifo`, i.config]);
    for (const command of ["start", "status"]) {
      const result = await i.run(command);
      expect(result.code).toBe(1);
      expect(oneLine(result)).toBe(`Settings file ${i.config} ${FIFO}.`);
    }
    expect(settings).toContain("ports");
  });

  test("a state file that is a FIFO or a directory: start refused saying what it is", async () => {
    await using i = instance();
    const state = join(i.dir, "configs.json");
    mkfifo(state);
    const fifo = await i.run("start");
    expect(fifo.code).toBe(1);
    expect(oneLine(fifo)).toContain(`State file ${state} ${FIFO}`);
    Bun.spawnSync(["rm", state]);
    mkdirSync(state);
    const dir = await i.run("start");
    expect(dir.code).toBe(1);
    const line = oneLine(dir);
    expect(line).toContain(`State file ${state} is a directory, not a regular file`);
    expect(line).not.toContain("permission");
  });

  test("a certificate or key file that is a FIFO: start refused naming it", async () => {
    using cert = makeTestCert();
    await using i = instance({ dev: false, certFile: "cert.pem", keyFile: "key.pem" });
    mkfifo(join(i.dir, "cert.pem"));
    const noCert = await i.run("start");
    expect(noCert.code).toBe(1);
    expect(oneLine(noCert)).toContain(`The certificate file ${join(i.dir, "cert.pem")} ${FIFO}`);
    Bun.spawnSync(["rm", join(i.dir, "cert.pem")]);
    writeFileSync(join(i.dir, "cert.pem"), cert.cert);
    mkfifo(join(i.dir, "key.pem"));
    const noKey = await i.run("start");
    expect(noKey.code).toBe(1);
    expect(oneLine(noKey)).toContain(`The private key file ${join(i.dir, "key.pem")} ${FIFO}`);
  });

  test("a log file that is a FIFO: start refused naming it", async () => {
    await using i = instance();
    mkdirSync(join(i.dir, "log"));
    mkfifo(join(i.dir, "log", "iofog-connector.log"));
    const result = await i.run("start");
    expect(result.code).toBe(1);
    expect(oneLine(result)).toContain(`${join(i.dir, "log", "iofog-connector.log")} ${FIFO}`);
  });
});

describe("a state file that is a link", () => {
  test("every write goes to the link's target; the link stays a link, and nothing is left next to it", async () => {
    await using i = instance();
    mkdirSync(join(i.dir, "real"));
    const target = join(i.dir, "real", "configs.json");
    writeFileSync(target, '{"mappings":[]}\n');
    symlinkSync("real/configs.json", join(i.dir, "configs.json"));
    await i.start();
    const first = await i.post("/api/v2/mapping/add", { mapping: PUBLIC });
    const second = await i.post("/api/v2/mapping/add", { mapping: PUBLIC });
    await i.post("/api/v2/mapping/remove", { mappingid: first.id });
    expect(lstatSync(join(i.dir, "configs.json")).isSymbolicLink()).toBe(true);
    const ids = loadState(target).map((entry) => (entry.kind === "mapping" ? entry.mapping.id : ""));
    expect(ids).toEqual([second.id]);
    // The lock and the journal sit next to the file written, so that every link to it shares them.
    expect(readdirSync(join(i.dir, "real")).sort()).toEqual(["configs.json", "configs.json.journal", "configs.json.lock"]);
    expect(readdirSync(i.dir).filter((name) => name.includes("configs"))).toEqual(["configs.json"]);
  });

  test("a link to a file that does not exist yet: the first compaction creates the target", async () => {
    await using i = instance();
    mkdirSync(join(i.dir, "real"));
    symlinkSync("real/configs.json", join(i.dir, "configs.json"));
    const child = await i.start();
    const added = await i.post("/api/v2/mapping/add", { mapping: PUBLIC });
    child.kill("SIGTERM"); // a clean stop compacts the journal into the target
    expect(await child.exited).toBe(0);
    expect(lstatSync(join(i.dir, "configs.json")).isSymbolicLink()).toBe(true);
    expect(readdirSync(join(i.dir, "real")).sort()).toEqual(["configs.json", "configs.json.lock"]);
    expect(readFileSync(join(i.dir, "real", "configs.json"), "utf8")).toContain(added.id);
  });
});
