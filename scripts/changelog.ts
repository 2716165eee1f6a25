// Turns CHANGELOG.md into the packages' changelogs: Debian's format (for changelog.gz) and
// the chglog list nfpm reads for the RPM's %changelog.
// Usage: bun scripts/changelog.ts --deb OUT --rpm OUT [--version X.Y.Z] [--release N]
//   --version  the version being packaged, default package.json's: it must be the newest entry
//   --release  the RPM release the entries are written for, default 1
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Release {
  version: string;
  /** YYYY-MM-DD */
  date: string;
  changes: string[];
}

export interface Packager {
  name: string;
  maintainer: string;
}

const HEADING = /^## (\d+\.\d+\.\d+\S*) - (\d{4}-\d{2}-\d{2})\s*$/;

/** The releases of CHANGELOG.md, newest first as written; each `- ` item is one change, its lines joined. */
export function parseChangelog(markdown: string): Release[] {
  const releases: Release[] = [];
  let current: Release | undefined;
  for (const [index, line] of markdown.split("\n").entries()) {
    const heading = HEADING.exec(line);
    if (heading) {
      current = { version: heading[1]!, date: heading[2]!, changes: [] };
      if (Number.isNaN(Date.parse(`${current.date}T00:00:00Z`))) throw new Error(`CHANGELOG.md line ${index + 1}: ${current.date} is not a date.`);
      releases.push(current);
    } else if (line.startsWith("## ")) {
      throw new Error(`CHANGELOG.md line ${index + 1}: a release heading is "## X.Y.Z - YYYY-MM-DD", not "${line}".`);
    } else if (current && line.startsWith("- ")) {
      current.changes.push(line.slice(2).trim());
    } else if (current && /^ {2}\S/.test(line) && current.changes.length > 0) {
      current.changes[current.changes.length - 1] += ` ${line.trim()}`;
    } else if (current && line.trim() !== "") {
      throw new Error(`CHANGELOG.md line ${index + 1}: under a release, only "- " items and their indented continuation lines.`);
    }
  }
  for (const release of releases) {
    if (release.changes.length === 0) throw new Error(`CHANGELOG.md: release ${release.version} lists no change.`);
    release.changes = release.changes.map((change) => change.replaceAll("`", ""));
  }
  return releases;
}

/** Words wrapped into lines of at most `width` characters, the first after `first`, the rest after `rest`. */
function wrap(text: string, first: string, rest: string, width = 78): string[] {
  const lines: string[] = [];
  let line = first;
  for (const word of text.split(/\s+/)) {
    const prefix = lines.length === 0 ? first : rest;
    if (line.length > prefix.length && line.length + 1 + word.length > width) {
      lines.push(line);
      line = rest + word;
    } else {
      line += (line.length > prefix.length ? " " : "") + word;
    }
  }
  lines.push(line);
  return lines;
}

/** RFC 2822 midnight UTC of a YYYY-MM-DD date, as dpkg-parsechangelog wants it. */
function rfc2822(date: string): string {
  return new Date(`${date}T00:00:00Z`).toUTCString().replace(/ GMT$/, " +0000");
}

/** debian/changelog format (native package: the version as it is). */
export function debianChangelog(releases: Release[], packager: Packager): string {
  return releases
    .map((release) => [
      `${packager.name} (${release.version}) stable; urgency=medium`,
      "",
      ...release.changes.flatMap((change) => wrap(change, "  * ", "    ")),
      "",
      ` -- ${packager.maintainer}  ${rfc2822(release.date)}`,
    ].join("\n"))
    .join("\n\n") + "\n";
}

/** The chglog entries nfpm turns into %changelog ("* DATE PACKAGER - VERSION-RELEASE"); JSON is YAML. */
export function rpmChangelog(releases: Release[], packager: Packager, release: string): string {
  const entries = releases.map((entry) => ({
    semver: `${entry.version}-${release}`,
    date: `${entry.date}T00:00:00Z`,
    packager: packager.maintainer,
    // nfpm prints a note's first line after "- " and the others as they are.
    changes: entry.changes.map((change) => ({ commit: "", note: wrap(change, "", "  ").join("\n") })),
  }));
  return `${JSON.stringify(entries, null, 2)}\n`;
}

/** Name and maintainer from nfpm.yaml's top-level keys. */
export function packagerFrom(nfpmYaml: string): Packager {
  const field = (key: string) => {
    const value = new RegExp(`^${key}:\\s*(.+?)\\s*$`, "m").exec(nfpmYaml)?.[1];
    if (!value) throw new Error(`nfpm.yaml has no ${key}.`);
    return value.replace(/^["']|["']$/g, "");
  };
  return { name: field("name"), maintainer: field("maintainer") };
}

function main(argv: string[]): void {
  const root = join(import.meta.dir, "..");
  const options: Record<string, string> = {
    version: JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version,
    release: "1",
  };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]?.replace(/^--/, "");
    const value = argv[i + 1];
    if (!key || !["deb", "rpm", "version", "release"].includes(key) || value === undefined) {
      throw new Error("usage: bun scripts/changelog.ts --deb OUT --rpm OUT [--version X.Y.Z] [--release N]");
    }
    options[key] = value;
  }
  const releases = parseChangelog(readFileSync(join(root, "CHANGELOG.md"), "utf8"));
  if (releases[0]?.version !== options.version) {
    throw new Error(`CHANGELOG.md has no entry for ${options.version} at the top (newest is ${releases[0]?.version ?? "none"}); add "## ${options.version} - YYYY-MM-DD" with what changed.`);
  }
  const packager = packagerFrom(readFileSync(join(root, "nfpm.yaml"), "utf8"));
  if (options.deb) writeFileSync(options.deb, debianChangelog(releases, packager));
  if (options.rpm) writeFileSync(options.rpm, rpmChangelog(releases, packager, options.release!));
}

if (import.meta.main) {
  try {
    main(process.argv.slice(2));
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
}
