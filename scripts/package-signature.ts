// Whether a .deb or .rpm carries an OpenPGP signature, read from the file's own structure:
// the .deb's _gpgorigin member (debsign, as nfpm signs), the .rpm's signature header tags.
// It says whether a signature is there, not whether it is valid: rpm -K and debsig-verify do that.
import { closeSync, openSync, readSync } from "node:fs";

/** RPMSIGTAG_DSA, _RSA, _OPENPGP, _PGP, _GPG, _PGP5: the tags that hold an OpenPGP signature. */
const RPM_SIGNATURE_TAGS = new Set([267, 268, 278, 1002, 1005, 1006]);
const RPM_LEAD = 96;
const AR_MAGIC = "!<arch>\n";
const AR_HEADER = 60;

function readAt(fd: number, offset: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  const got = readSync(fd, buffer, 0, length, offset);
  return buffer.subarray(0, got);
}

/** The tags of the rpm's signature header (the first header after the 96-byte lead). */
function rpmSignatureTags(fd: number): number[] | undefined {
  const intro = readAt(fd, RPM_LEAD, 16);
  if (intro.length < 16 || intro.readUInt32BE(0) !== 0x8eade801) return undefined;
  const count = intro.readUInt32BE(8);
  if (count > 1024) return undefined;
  const index = readAt(fd, RPM_LEAD + 16, count * 16);
  if (index.length < count * 16) return undefined;
  return Array.from({ length: count }, (_, i) => index.readUInt32BE(i * 16));
}

/** The member names of an ar archive (a .deb), in order. */
function arMembers(fd: number): string[] | undefined {
  if (readAt(fd, 0, AR_MAGIC.length).toString("latin1") !== AR_MAGIC) return undefined;
  const names: string[] = [];
  let offset = AR_MAGIC.length;
  for (;;) {
    const header = readAt(fd, offset, AR_HEADER);
    if (header.length === 0) return names;
    if (header.length < AR_HEADER || header.toString("latin1", 58, 60) !== "`\n") return undefined;
    names.push(header.toString("latin1", 0, 16).trim().replace(/\/$/, ""));
    const size = Number(header.toString("latin1", 48, 58).trim());
    if (!Number.isInteger(size) || size < 0) return undefined;
    offset += AR_HEADER + size + (size % 2);
  }
}

/** "signed" or "unsigned"; an error names a file that is neither a .deb nor an .rpm. */
export function signatureOf(file: string): "signed" | "unsigned" {
  const fd = openSync(file, "r");
  try {
    if (file.endsWith(".rpm")) {
      const tags = rpmSignatureTags(fd);
      if (tags === undefined) throw new Error(`${file} is not an rpm package (no signature header after the lead).`);
      return tags.some((tag) => RPM_SIGNATURE_TAGS.has(tag)) ? "signed" : "unsigned";
    }
    const members = arMembers(fd);
    if (members === undefined || members[0] !== "debian-binary") throw new Error(`${file} is not a deb package (not an ar archive starting with debian-binary).`);
    return members.includes("_gpgorigin") ? "signed" : "unsigned";
  } finally {
    closeSync(fd);
  }
}

if (import.meta.main) {
  let status = 0;
  for (const file of process.argv.slice(2)) {
    try {
      console.log(`${file}: ${signatureOf(file)}`);
    } catch (error) {
      console.error(error instanceof Error ? error.message : String(error));
      status = 1;
    }
  }
  process.exit(status);
}
