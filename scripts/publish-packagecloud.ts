// Pushes the four packages of this version to a packagecloud repository through its HTTP API,
// once for every distribution version the README lists.
// Usage: PACKAGECLOUD_TOKEN=... bun scripts/publish-packagecloud.ts [--dry-run] [--repo USER/REPO]
//          [--dir DIR] [--version X.Y.Z] [--distributions FILE] [--allow-unsigned]
//   --dry-run        print every request instead of sending it (no token needed)
//   --allow-unsigned push packages built without a signing key (a real run refuses them otherwise)
//   --repo           default iofog/iofog-connector
//   --dir            where the packages are, default dist/
//   --version        default: package.json's
//   --distributions  a saved copy of GET /api/v1/distributions.json to resolve names offline
//   --api            default https://packagecloud.io/api/v1 (tests point it at a local server)
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { signatureOf } from "./package-signature.ts";

/** Where each package goes, as packagecloud names distributions ("os/version"). */
export const TARGETS = {
  deb: ["debian/bullseye", "debian/bookworm", "debian/trixie", "ubuntu/focal", "ubuntu/jammy", "ubuntu/noble"],
  // Raspberry Pi OS with a 64-bit userland; 32-bit (armhf) has no build at all.
  debArm64Only: ["raspbian/bullseye", "raspbian/bookworm", "raspbian/trixie"],
  rpm: ["fedora/42", "fedora/43", "el/8", "el/9"],
} as const;

interface Push {
  file: string;
  format: "deb" | "rpm";
  distro: string;
}

interface Options {
  api: string;
  dryRun: boolean;
  allowUnsigned: boolean;
  repo: string;
  dir: string;
  version: string;
  distributions?: string;
}

function parseArgs(argv: string[]): Options {
  const root = join(import.meta.dir, "..");
  const options: Options = {
    api: "https://packagecloud.io/api/v1",
    dryRun: false,
    allowUnsigned: false,
    repo: "iofog/iofog-connector",
    dir: join(root, "dist"),
    version: JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === "--dry-run") options.dryRun = true;
    else if (arg === "--allow-unsigned") options.allowUnsigned = true;
    else if (arg === "--repo") options.repo = value();
    else if (arg === "--dir") options.dir = value();
    else if (arg === "--version") options.version = value();
    else if (arg === "--distributions") options.distributions = value();
    else if (arg === "--api") options.api = value().replace(/\/$/, "");
    else throw new Error(`unknown argument ${arg}`);
  }
  if (!/^[\w.-]+\/[\w.-]+$/.test(options.repo)) throw new Error(`--repo must be USER/REPO, not ${options.repo}`);
  return options;
}

/** Every push for one version: each package to each distribution version it suits. */
export function plan(dir: string, version: string): Push[] {
  const debs = [`iofog-connector_${version}_amd64.deb`, `iofog-connector_${version}_arm64.deb`];
  const rpms = [`iofog-connector-${version}-1.x86_64.rpm`, `iofog-connector-${version}-1.aarch64.rpm`];
  const pushes: Push[] = [];
  for (const name of debs) {
    const distros = name.endsWith("_arm64.deb") ? [...TARGETS.deb, ...TARGETS.debArm64Only] : TARGETS.deb;
    for (const distro of distros) pushes.push({ file: join(dir, name), format: "deb", distro });
  }
  for (const name of rpms) {
    for (const distro of TARGETS.rpm) pushes.push({ file: join(dir, name), format: "rpm", distro });
  }
  return pushes;
}

type Distributions = Record<string, { index_name: string; versions: { id: number; index_name: string }[] }[]>;

/** The id packagecloud gives "os/version" among the distributions of one package format. */
export function distroId(distributions: Distributions, format: string, distro: string): number | undefined {
  const [os, version] = distro.split("/");
  return distributions[format]?.find((entry) => entry.index_name === os)?.versions.find((v) => v.index_name === version)?.id;
}

function authorization(token: string): string {
  return `Basic ${Buffer.from(`${token}:`).toString("base64")}`;
}

async function loadDistributions(options: Options, token: string | undefined): Promise<Distributions | undefined> {
  if (options.distributions) return JSON.parse(readFileSync(options.distributions, "utf8"));
  console.log(`GET ${options.api}/distributions.json`);
  if (options.dryRun) return undefined;
  const response = await fetch(`${options.api}/distributions.json`, {
    headers: { Authorization: authorization(token!) },
    signal: AbortSignal.timeout(60_000),
  });
  if (!response.ok) throw new Error(`GET distributions.json: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as Distributions;
}

function megabytes(file: string): string {
  return existsSync(file) ? `${(statSync(file).size / 1e6).toFixed(1)} MB` : "missing";
}

async function main(argv: string[]): Promise<number> {
  const options = parseArgs(argv);
  const token = process.env.PACKAGECLOUD_TOKEN;
  if (!options.dryRun && !token) throw new Error("PACKAGECLOUD_TOKEN is not set.");
  const pushes = plan(options.dir, options.version);
  const missing = [...new Set(pushes.map((push) => push.file))].filter((file) => !existsSync(file));
  if (missing.length > 0) throw new Error(`missing packages (run npm run package): ${missing.join(", ")}`);
  const signatures = new Map([...new Set(pushes.map((push) => push.file))].map((file) => [file, signatureOf(file)]));
  const unsigned = [...signatures].filter(([, signature]) => signature === "unsigned").map(([file]) => basename(file));
  if (unsigned.length > 0 && !options.dryRun && !options.allowUnsigned) {
    throw new Error(`not signed: ${unsigned.join(", ")}. Package with IOFOG_CONNECTOR_SIGNING_KEY set (see the README), or pass --allow-unsigned.`);
  }

  const distributions = await loadDistributions(options, token);
  const ids = new Map<Push, number | undefined>(pushes.map((push) => [push, distributions && distroId(distributions, push.format, push.distro)]));
  if (distributions) {
    const unknown = [...new Set(pushes.filter((push) => ids.get(push) === undefined).map((push) => `${push.format} ${push.distro}`))];
    if (unknown.length > 0) throw new Error(`packagecloud does not know these distributions: ${unknown.join(", ")}`);
  }

  const url = `${options.api}/repos/${options.repo}/packages.json`;
  let failures = 0;
  for (const push of pushes) {
    const id = ids.get(push);
    if (options.dryRun) {
      console.log(`POST ${url}`);
      console.log(`  Authorization: Basic <PACKAGECLOUD_TOKEN>`);
      console.log(`  package[distro_version_id]=${id ?? "<id>"} (${push.distro})`);
      console.log(`  package[package_file]=@${push.file} (${megabytes(push.file)}, ${signatures.get(push.file)})`);
      continue;
    }
    const form = new FormData();
    form.append("package[distro_version_id]", String(id));
    form.append("package[package_file]", Bun.file(push.file), basename(push.file));
    const response = await fetch(url, {
      method: "POST",
      headers: { Authorization: authorization(token!) },
      body: form,
      signal: AbortSignal.timeout(600_000),
    });
    const text = await response.text();
    if (response.status === 201) {
      console.log(`pushed ${basename(push.file)} to ${push.distro}`);
    } else if (response.status === 422 && /already been taken/.test(text)) {
      console.log(`${basename(push.file)} is already in ${push.distro}`);
    } else {
      console.error(`pushing ${basename(push.file)} to ${push.distro} failed: HTTP ${response.status} ${text}`);
      failures++;
    }
  }
  if (options.dryRun && unsigned.length > 0 && !options.allowUnsigned) {
    console.log(`not signed: ${unsigned.join(", ")}; a real run refuses them without --allow-unsigned`);
  }
  console.log(options.dryRun ? `${pushes.length} pushes (dry run, nothing sent)` : `${pushes.length - failures} of ${pushes.length} pushes done`);
  return failures === 0 ? 0 : 1;
}

if (import.meta.main) {
  try {
    process.exit(await main(process.argv.slice(2)));
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
}
