// scripts/package-signature.ts: a signature is found where nfpm puts it, in either format;
// a file that is not a package is refused with its name.
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signatureOf } from "../../scripts/package-signature.ts";
import { thrown } from "../support/thrown.ts";
import { fakeDeb, fakeRpm } from "./fake-packages.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function file(name: string, contents: Buffer | string): string {
  const dir = mkdtempSync(join(tmpdir(), "iofog-signature-"));
  dirs.push(dir);
  writeFileSync(join(dir, name), contents);
  return join(dir, name);
}

test("a .deb is signed when it has a _gpgorigin member", () => {
  expect(signatureOf(file("a.deb", fakeDeb(true)))).toBe("signed");
  expect(signatureOf(file("a.deb", fakeDeb(false)))).toBe("unsigned");
});

test("an .rpm is signed when its signature header has an OpenPGP tag", () => {
  expect(signatureOf(file("a.rpm", fakeRpm(true)))).toBe("signed");
  expect(signatureOf(file("a.rpm", fakeRpm(false)))).toBe("unsigned");
});

test("a file that is not a package, or is cut short, is refused with its name", () => {
  const text = file("a.deb", "contents of a.deb");
  expect((thrown(() => signatureOf(text)) as Error).message).toBe(`${text} is not a deb package (not an ar archive starting with debian-binary).`);
  const short = file("a.rpm", fakeRpm(true).subarray(0, 120));
  expect((thrown(() => signatureOf(short)) as Error).message).toBe(`${short} is not an rpm package (no signature header after the lead).`);
  const truncated = file("b.deb", fakeDeb(true).subarray(0, 80));
  expect((thrown(() => signatureOf(truncated)) as Error).message).toContain("is not a deb package");
});
