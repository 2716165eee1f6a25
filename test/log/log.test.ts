import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createLogger, LOG_FILE_NAME, redact } from "../../src/log.ts";
import { tempDir } from "../support/temp-dir.ts";

test("text lines go to the writer and are appended to the log file", () => {
  using dir = tempDir();
  const lines: string[] = [];
  const log = createLogger({ logDir: dir.path, write: (line) => void lines.push(line) });
  log.info("first %d", 1);
  log.debug("hidden at info level");
  log.warn("second");
  log.close();
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z \[INFO\] first 1\n$/);
  expect(lines[1]).toContain("[WARN] second");
  expect(readFileSync(join(dir.path, LOG_FILE_NAME), "utf8")).toBe(lines.join(""));
  const again = createLogger({ logDir: dir.path, write: () => {} });
  again.error("third");
  again.close();
  expect(readFileSync(join(dir.path, LOG_FILE_NAME), "utf8").split("\n")).toHaveLength(4);
});

test('logFormat "json": one JSON object a line', () => {
  const lines: string[] = [];
  const log = createLogger({ format: "json", level: "debug", write: (line) => void lines.push(line) });
  log.debug("a \"quoted\" word");
  log.error("failed:", new Error("boom"));
  const [first, second] = lines.map((line) => JSON.parse(line));
  expect(first).toMatchObject({ level: "debug", msg: 'a "quoted" word' });
  expect(Date.parse(first.time)).toBeGreaterThan(0);
  expect(second.level).toBe("error");
  expect(second.msg).toContain("boom");
  expect(lines.every((line) => line.endsWith("}\n") && !line.slice(0, -1).includes("\n"))).toBe(true);
});

test("setLevel changes a running logger; redact never shows a whole passcode", () => {
  const lines: string[] = [];
  const log = createLogger({ level: "warn", write: (line) => void lines.push(line) });
  log.info("dropped");
  log.setLevel("info");
  log.info("kept");
  expect(lines).toHaveLength(1);
  const passcode = "0b403b65-1111-4222-8333-944455556666";
  expect(redact(passcode)).toBe("0b403b65…");
  expect(redact("short")).toBe("…");
});

test("a writer that throws (stdout closed) never reaches the caller, and the line is counted", () => {
  using dir = tempDir();
  const log = createLogger({ logDir: dir.path, write: () => { throw Object.assign(new Error("EPIPE"), { code: "EPIPE" }); } });
  expect(() => log.error("still in the file")).not.toThrow();
  expect(log.writeFailures).toBe(1);
  log.close();
  expect(() => log.close()).not.toThrow();
  expect(readFileSync(join(dir.path, LOG_FILE_NAME), "utf8")).toContain("still in the file");
});
