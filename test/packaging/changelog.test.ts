// scripts/changelog.ts: CHANGELOG.md becomes Debian's changelog and nfpm's chglog list; a
// malformed file or a version without an entry stops the packaging with a sentence.
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { debianChangelog, packagerFrom, parseChangelog, rpmChangelog } from "../../scripts/changelog.ts";
import { thrown } from "../support/thrown.ts";

const root = join(import.meta.dir, "../..");
const packager = { name: "iofog-connector", maintainer: "Eclipse ioFog <iofog-dev@eclipse.org>" };
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const sample = `# Changelog

Intro text.

## 2.1.0 - 2027-03-04

- First change, long enough that Debian's format has to wrap it onto a second line
  because it goes on and on about \`status --json\`.
- Second change.

## 2.0.0 - 2026-12-01

- The rebuild.
`;

test("releases and their items, continuation lines joined, backticks dropped", () => {
  expect(parseChangelog(sample)).toEqual([
    {
      version: "2.1.0",
      date: "2027-03-04",
      changes: [
        "First change, long enough that Debian's format has to wrap it onto a second line because it goes on and on about status --json.",
        "Second change.",
      ],
    },
    { version: "2.0.0", date: "2026-12-01", changes: ["The rebuild."] },
  ]);
});

test("Debian format: header, wrapped items within 80 columns, trailer with an RFC 2822 date", () => {
  const text = debianChangelog(parseChangelog(sample), packager);
  expect(text).toStartWith("iofog-connector (2.1.0) stable; urgency=medium\n\n  * First change, long enough");
  expect(text).toContain("\n -- Eclipse ioFog <iofog-dev@eclipse.org>  Thu, 04 Mar 2027 00:00:00 +0000\n\niofog-connector (2.0.0) stable;");
  expect(text).toEndWith("  * The rebuild.\n\n -- Eclipse ioFog <iofog-dev@eclipse.org>  Tue, 01 Dec 2026 00:00:00 +0000\n");
  expect(text.split("\n").filter((line) => line.length > 80)).toEqual([]);
  expect(text).toContain("wrap it onto a\n    second line because it goes on and on about status --json.\n");
});

test.skipIf(Bun.which("dpkg-parsechangelog") === null)("dpkg-parsechangelog reads the Debian format of CHANGELOG.md itself", () => {
  const dir = mkdtempSync(join(tmpdir(), "iofog-changelog-"));
  dirs.push(dir);
  const file = join(dir, "changelog");
  const result = Bun.spawnSync([process.execPath, join(root, "scripts/changelog.ts"), "--deb", file]);
  expect(result.stderr.toString()).toBe("");
  expect(result.exitCode).toBe(0);
  const parsed = Bun.spawnSync(["dpkg-parsechangelog", "-l", file, "-S", "Version"]);
  expect(parsed.stderr.toString()).toBe("");
  expect(parsed.stdout.toString().trim()).toBe(JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version);
});

test("chglog entries carry VERSION-RELEASE, the date at midnight UTC and one note per item", () => {
  const entries = JSON.parse(rpmChangelog(parseChangelog(sample), packager, "1"));
  expect(entries[0]).toEqual({
    semver: "2.1.0-1",
    date: "2027-03-04T00:00:00Z",
    packager: "Eclipse ioFog <iofog-dev@eclipse.org>",
    changes: [
      { commit: "", note: expect.stringContaining("status --json.") },
      { commit: "", note: "Second change." },
    ],
  });
  expect(entries.map((entry: { semver: string }) => entry.semver)).toEqual(["2.1.0-1", "2.0.0-1"]);
  // Wrapped for rpm -q --changelog: "- " and the first line, then lines indented by two.
  const lines = entries[0].changes[0].note.split("\n");
  expect(lines.length).toBe(2);
  expect(lines[1]).toStartWith("  ");
  expect(lines.every((line: string) => line.length <= 78)).toBe(true);
});

test("the packager comes from nfpm.yaml", () => {
  expect(packagerFrom(readFileSync(join(root, "nfpm.yaml"), "utf8"))).toEqual(packager);
});

test("a bad heading, a stray line, an empty release or a bad date is refused with the line", () => {
  const refusal = (markdown: string) => (thrown(() => parseChangelog(markdown)) as Error | undefined)?.message;
  expect(refusal("## 2.0.0 (2026-12-01)\n- x\n")).toContain('line 1: a release heading is "## X.Y.Z - YYYY-MM-DD"');
  expect(refusal("## 2.0.0 - 2026-12-01\nnot an item\n")).toContain("line 2: under a release, only");
  expect(refusal("## 2.0.0 - 2026-12-01\n\n## 1.3.0 - 2019-01-01\n- x\n")).toContain("release 2.0.0 lists no change");
  expect(refusal("## 2.0.0 - 2026-13-45\n- x\n")).toContain("2026-13-45 is not a date");
});

test("packaging a version that has no entry at the top of CHANGELOG.md stops with what to add", () => {
  const result = Bun.spawnSync([process.execPath, join(root, "scripts/changelog.ts"), "--version", "9.9.9", "--deb", "/dev/null"]);
  expect(result.exitCode).toBe(1);
  expect(result.stderr.toString()).toContain('CHANGELOG.md has no entry for 9.9.9 at the top');
});
