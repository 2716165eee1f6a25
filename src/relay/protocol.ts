// The relay wire protocol of PROTOCOL.md §3 in one place: the words on the wire and the passcode reader.
import crypto from "node:crypto";

/** Length of a passcode on the wire: the 36 ASCII characters of a UUID, no terminator. */
export const PASSCODE_LENGTH = 36;

/** Written to an agent connection that presented the right passcode. */
export const AUTHORIZED: Uint8Array = Buffer.from("AUTHORIZED");

/** The heartbeat word, sent by agents and answered by the Connector. */
export const BEAT: Uint8Array = Buffer.from("BEAT");

/**
 * Whether one read is a heartbeat: exactly `BEAT`, or `BEATBEAT` (two heartbeats read together, which
 * the agents count as one too). A heartbeat is recognised only alone in a read.
 */
export function isBeat(chunk: Uint8Array): boolean {
  const n = chunk.length;
  if (n !== 4 && n !== 8) return false;
  for (let i = 0; i < n; i += 4) {
    if (chunk[i] !== 0x42 || chunk[i + 1] !== 0x45 || chunk[i + 2] !== 0x41 || chunk[i + 3] !== 0x54) return false;
  }
  return true;
}

/**
 * Whether the first bytes of a connection open a TLS handshake (a handshake record, major version 3).
 * A passcode is ASCII, so these bytes on a plain port mean a client that speaks TLS.
 */
export function looksLikeTls(chunk: Uint8Array): boolean {
  return chunk[0] === 0x16 && (chunk.length < 2 || chunk[1] === 0x03);
}

/**
 * Whether a presented passcode is the expected one; the comparison takes the same time wherever they
 * differ. The expected passcode stays a string until a connection presents one: a mapping that nobody
 * dials costs no buffer.
 */
export function passcodeMatches(presented: Uint8Array, expected: string): boolean {
  // A stored passcode of another length can never match, and timingSafeEqual needs equal lengths.
  if (expected.length !== PASSCODE_LENGTH || presented.length !== PASSCODE_LENGTH) return false;
  return crypto.timingSafeEqual(presented, Buffer.from(expected, "latin1"));
}

/**
 * Gathers the first PASSCODE_LENGTH bytes of a connection, whether they arrive in one read, split over
 * several, or glued to the payload that follows them.
 */
export class PasscodeReader {
  private gathered: Uint8Array | null = null;
  private got = 0;

  /**
   * Takes one read. Returns -1 while the passcode is incomplete; once complete, the offset in `chunk`
   * where the payload behind the passcode starts (chunk.length when nothing follows).
   */
  feed(chunk: Uint8Array): number {
    if (this.got === 0 && chunk.length >= PASSCODE_LENGTH) {
      // The usual case, one write of the passcode: look at it in place.
      this.gathered = chunk.subarray(0, PASSCODE_LENGTH);
      this.got = PASSCODE_LENGTH;
      return PASSCODE_LENGTH;
    }
    this.gathered ??= new Uint8Array(PASSCODE_LENGTH);
    const take = Math.min(PASSCODE_LENGTH - this.got, chunk.length);
    this.gathered.set(chunk.subarray(0, take), this.got);
    this.got += take;
    return this.got === PASSCODE_LENGTH ? take : -1;
  }

  /** The gathered passcode; complete once feed() has returned an offset. */
  get passcode(): Uint8Array {
    return this.gathered ?? new Uint8Array(0);
  }
}
