// scripts/publish-packagecloud.ts: the dry run prints every push; a real run sends packagecloud's
// multipart upload with the token as basic-auth user (against a local stand-in for the API), and
// refuses unsigned packages unless told otherwise.
import { afterEach, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fakeDeb, fakeRpm } from "./fake-packages.ts";

const root = join(import.meta.dir, "../..");
const script = join(root, "scripts/publish-packagecloud.ts");
const fixture = join(import.meta.dir, "distributions.json");
const VERSION = "9.8.7";
const FILES = [
  `iofog-connector_${VERSION}_amd64.deb`,
  `iofog-connector_${VERSION}_arm64.deb`,
  `iofog-connector-${VERSION}-1.x86_64.rpm`,
  `iofog-connector-${VERSION}-1.aarch64.rpm`,
];

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function packagesDir(files = FILES, signed = true): string {
  const dir = mkdtempSync(join(tmpdir(), "iofog-publish-"));
  dirs.push(dir);
  for (const name of files) writeFileSync(join(dir, name), name.endsWith(".deb") ? fakeDeb(signed) : fakeRpm(signed));
  return dir;
}

const sha256 = (bytes: Buffer | ArrayBuffer) => createHash("sha256").update(Buffer.from(bytes as ArrayBuffer)).digest("hex");

async function run(args: string[], env: Record<string, string | undefined> = {}) {
  await using child = Bun.spawn([process.execPath, script, ...args], {
    env: { ...process.env, PACKAGECLOUD_TOKEN: undefined, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { stdout, stderr, code };
}

/** The dry run's pushes as [file, distro, id]. */
function pushes(stdout: string): [string, string, string][] {
  const found: [string, string, string][] = [];
  const pattern = /^  package\[distro_version_id\]=(\S+) \((\S+)\)\n  package\[package_file\]=@.*\/(\S+) \(/gm;
  for (const match of stdout.matchAll(pattern)) found.push([match[3]!, match[2]!, match[1]!]);
  return found;
}

test("the dry run prints one POST per package and distribution, with ids resolved, and sends nothing", async () => {
  const dir = packagesDir();
  const { stdout, stderr, code } = await run(["--dry-run", "--dir", dir, "--version", VERSION, "--distributions", fixture]);
  expect(stderr).toBe("");
  expect(code).toBe(0);
  const list = pushes(stdout);
  expect(stdout.match(/^POST https:\/\/packagecloud\.io\/api\/v1\/repos\/iofog\/iofog-connector\/packages\.json$/gm)?.length).toBe(list.length);
  expect(list).toContainEqual([FILES[0]!, "debian/bookworm", "215"]);
  expect(list).toContainEqual([FILES[1]!, "raspbian/bookworm", "216"]);
  expect(list).toContainEqual([FILES[2]!, "el/9", "240"]);
  expect(list).toContainEqual([FILES[3]!, "fedora/42", "290"]);
  // 32-bit Raspberry Pi OS cannot run the amd64 package either: raspbian only gets arm64.
  expect(list.filter(([file, distro]) => distro.startsWith("raspbian/") && file !== FILES[1])).toEqual([]);
  expect(list.filter(([file]) => file.endsWith(".rpm")).every(([, distro]) => /^(fedora|el)\//.test(distro))).toBe(true);
  expect(list.filter(([file]) => file.endsWith(".deb")).every(([, distro]) => /^(debian|ubuntu|raspbian)\//.test(distro))).toBe(true);
  for (const file of FILES) expect(list.some(([name]) => name === file)).toBe(true);
  expect(stdout).toContain(`/${FILES[0]} (0.0 MB, signed)\n`);
  expect(stdout).not.toContain("not signed");
  expect(stdout).toContain(`${list.length} pushes (dry run, nothing sent)`);
});

test("the dry run never prints the token", async () => {
  const { stdout, code } = await run(["--dry-run", "--dir", packagesDir(), "--version", VERSION, "--distributions", fixture], {
    PACKAGECLOUD_TOKEN: "s3cret-t0ken",
  });
  expect(code).toBe(0);
  expect(stdout).not.toContain("s3cret-t0ken");
  expect(stdout).not.toContain(Buffer.from("s3cret-t0ken:").toString("base64"));
});

test("without a distributions file the dry run shows the lookup it would make", async () => {
  const { stdout, code } = await run(["--dry-run", "--dir", packagesDir(), "--version", VERSION, "--repo", "someone/else"]);
  expect(code).toBe(0);
  expect(stdout).toStartWith("GET https://packagecloud.io/api/v1/distributions.json\n");
  expect(stdout).toContain("POST https://packagecloud.io/api/v1/repos/someone/else/packages.json");
  expect(stdout).toContain("package[distro_version_id]=<id> (debian/bookworm)");
});

test("a missing package, a missing token or an unknown distribution stops it before any push", async () => {
  const partial = await run(["--dry-run", "--dir", packagesDir(FILES.slice(1)), "--version", VERSION]);
  expect(partial.code).toBe(1);
  expect(partial.stderr).toContain(FILES[0]!);

  const noToken = await run(["--dir", packagesDir(), "--version", VERSION]);
  expect(noToken.code).toBe(1);
  expect(noToken.stderr).toContain("PACKAGECLOUD_TOKEN");

  const trimmed = join(packagesDir([]), "distributions.json");
  writeFileSync(trimmed, JSON.stringify({ deb: [], rpm: [] }));
  const unknown = await run(["--dry-run", "--dir", packagesDir(), "--version", VERSION, "--distributions", trimmed]);
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toContain("deb debian/bookworm");
  expect(unknown.stdout).not.toContain("POST");
});

test("a real run looks the ids up and uploads each package as multipart with the token as basic-auth user", async () => {
  const distributions = await Bun.file(fixture).text();
  const uploads: { auth: string | null; id: string; name: string; body: string }[] = [];
  let lookups = 0;
  using server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      const url = new URL(request.url);
      if (request.method === "GET" && url.pathname === "/api/v1/distributions.json") {
        lookups++;
        return new Response(distributions, { headers: { "Content-Type": "application/json" } });
      }
      if (request.method === "POST" && url.pathname === "/api/v1/repos/iofog/iofog-connector/packages.json") {
        const form = await request.formData();
        const file = form.get("package[package_file]") as File;
        uploads.push({ auth: request.headers.get("authorization"), id: String(form.get("package[distro_version_id]")), name: file.name, body: sha256(await file.arrayBuffer()) });
        // packagecloud refuses a file it already has in that distribution; a re-run must go on.
        if (uploads.length === 1) return Response.json({ filename: ["has already been taken"] }, { status: 422 });
        return Response.json({}, { status: 201 });
      }
      return new Response("not found", { status: 404 });
    },
  });
  const dir = packagesDir();
  const { stdout, stderr, code } = await run(["--api", `http://127.0.0.1:${server.port}/api/v1`, "--dir", dir, "--version", VERSION], {
    PACKAGECLOUD_TOKEN: "tok",
  });
  expect(stderr).toBe("");
  expect(code).toBe(0);
  expect(lookups).toBe(1);
  expect(uploads.length).toBeGreaterThanOrEqual(4);
  expect(uploads.every((upload) => upload.auth === `Basic ${Buffer.from("tok:").toString("base64")}`)).toBe(true);
  expect(uploads).toContainEqual({ auth: expect.any(String), id: "215", name: FILES[0]!, body: sha256(readFileSync(join(dir, FILES[0]!))) });
  expect(uploads).toContainEqual({ auth: expect.any(String), id: "240", name: FILES[2]!, body: sha256(readFileSync(join(dir, FILES[2]!))) });
  expect(stdout).toContain("is already in debian/bullseye");
  expect(stdout).toContain(`${uploads.length} of ${uploads.length} pushes done`);
});

test("a real run refuses unsigned packages before any request, unless --allow-unsigned; the dry run says which", async () => {
  let requests = 0;
  using server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(request) {
      requests++;
      if (new URL(request.url).pathname.endsWith("/distributions.json")) return new Response(readFileSync(fixture), { headers: { "Content-Type": "application/json" } });
      return Response.json({}, { status: 201 });
    },
  });
  const api = `http://127.0.0.1:${server.port}/api/v1`;
  const unsigned = packagesDir(FILES, false);
  const refused = await run(["--api", api, "--dir", unsigned, "--version", VERSION], { PACKAGECLOUD_TOKEN: "tok" });
  expect(refused.code).toBe(1);
  expect(refused.stderr).toBe(`not signed: ${FILES.join(", ")}. Package with IOFOG_CONNECTOR_SIGNING_KEY set (see the README), or pass --allow-unsigned.\n`);
  expect(requests).toBe(0);

  const dry = await run(["--dry-run", "--dir", unsigned, "--version", VERSION, "--distributions", fixture]);
  expect(dry.code).toBe(0);
  expect(dry.stdout).toContain(`/${FILES[2]} (0.0 MB, unsigned)\n`);
  expect(dry.stdout).toContain(`not signed: ${FILES.join(", ")}; a real run refuses them without --allow-unsigned\n`);

  const allowed = await run(["--api", api, "--dir", unsigned, "--version", VERSION, "--allow-unsigned"], { PACKAGECLOUD_TOKEN: "tok" });
  expect(allowed.stderr).toBe("");
  expect(allowed.code).toBe(0);
  expect(requests).toBeGreaterThan(4);

  const junk = packagesDir([]);
  for (const name of FILES) writeFileSync(join(junk, name), `contents of ${name}`);
  const notPackages = await run(["--dry-run", "--dir", junk, "--version", VERSION, "--distributions", fixture]);
  expect(notPackages.code).toBe(1);
  expect(notPackages.stderr).toContain("is not a deb package");
  expect(notPackages.stdout).not.toContain("POST");
});
