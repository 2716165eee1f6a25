// The smallest files that have the structure of a .deb or an .rpm, signed or not, for tests
// that read a package's structure without installing it.

function arMember(name: string, data: Buffer): Buffer {
  const header = `${name.padEnd(16)}${"0".padEnd(12)}${"0".padEnd(6)}${"0".padEnd(6)}${"100644".padEnd(8)}${String(data.length).padEnd(10)}\`\n`;
  return Buffer.concat([Buffer.from(header, "latin1"), data, data.length % 2 ? Buffer.from("\n") : Buffer.alloc(0)]);
}

/** An ar archive with debian-binary, the two tarballs (their contents made up) and, signed, a _gpgorigin member. */
export function fakeDeb(signed: boolean): Buffer {
  const members = [
    arMember("debian-binary", Buffer.from("2.0\n")),
    arMember("control.tar.gz", Buffer.from("not really a tarball")),
    arMember("data.tar.gz", Buffer.from("odd-sized data")),
  ];
  if (signed) members.push(arMember("_gpgorigin", Buffer.from("-----BEGIN PGP SIGNATURE-----\n")));
  return Buffer.concat([Buffer.from("!<arch>\n"), ...members]);
}

/** A 96-byte lead and a signature header whose index holds SHA-256 (273) and, signed, RSA (268). */
export function fakeRpm(signed: boolean): Buffer {
  const tags = signed ? [273, 268] : [273];
  const lead = Buffer.alloc(96);
  lead.writeUInt32BE(0xedabeedb, 0);
  const intro = Buffer.alloc(16);
  intro.writeUInt32BE(0x8eade801, 0);
  intro.writeUInt32BE(tags.length, 8);
  intro.writeUInt32BE(0, 12);
  const index = Buffer.alloc(tags.length * 16);
  tags.forEach((tag, i) => index.writeUInt32BE(tag, i * 16));
  return Buffer.concat([lead, intro, index, Buffer.from("payload")]);
}
