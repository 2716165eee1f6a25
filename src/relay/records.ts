// Keeps TLS record boundaries: reads record lengths off the ciphertext and cuts the decrypted stream at them.
//
// Bun's TLS socket hands every record decrypted from one kernel read to a single `data` callback. The
// deployed agent frames its messages by TLS record (one Write is one record, one Read returns at most
// one), so the relay must see one read per record. The raw half of `upgradeTLS` sees each kernel read's
// ciphertext before it is decrypted; the record headers there give every record's length, and the
// length of its plaintext follows from the negotiated protocol and cipher. No cryptography happens here.

/** TLS record header: content type (1), version (2), length (2). */
const HEADER = 5;
const APPLICATION_DATA = 23;
/** Shared by every cutter that holds no length: never written to. */
const NO_LENGTHS: number[] = [];
/** The most plaintext one TLS record carries; a sender that has more cuts it into records this long. */
export const MAX_RECORD = 16_384;
/** A plaintext chunk this long may end inside a record legitimately: Bun's read buffer filled up. */
const FULL_READ = 256 * 1024;

/**
 * Bytes a record adds to its plaintext, for the AEAD suites whose overhead is fixed; undefined for any
 * other (CBC padding hides the length), which the relay then forwards read by read.
 */
export function recordOverhead(version: string, cipher: string): number | undefined {
  if (version === "TLSv1.3") return 17; // 16-byte tag + 1 inner content type; no padding
  if (version !== "TLSv1.2") return undefined;
  if (/GCM/.test(cipher)) return 24; // 8-byte explicit nonce + 16-byte tag
  if (/CHACHA20/.test(cipher)) return 16;
  return undefined;
}

/**
 * One connection's cutter. `ciphertext()` takes the raw half's reads, `plaintext()` the TLS half's,
 * `next()` returns the records one at a time. Bytes are never dropped: when the lengths do not match
 * what arrives (a client that pads, a record that carries no data), what is held is emitted as it is
 * and the connection is forwarded read by read from then on.
 *
 * Between reads a cutter usually holds nothing but its overhead (`idle`): the connection then drops it and
 * keeps only `cutAt`, and starts a new one with that overhead at its next read (an idle connection keeps none).
 */
export class RecordCutter {
  /** Ciphertext lengths of the application-data records seen, oldest first, from `head`. */
  private lengths: number[] = NO_LENGTHS;
  private head = 0;
  private headerBuf: Uint8Array | null = null;
  private headerGot = 0;
  /** Ciphertext bytes of the current record still to come. */
  private bodyLeft = 0;
  /** Plaintext bytes per record; undefined until the handshake is done, null once cutting is off. */
  private overhead: number | undefined | null = undefined;
  /** Plaintext of the record being completed across reads. */
  private partial: Uint8Array[] | null = null;
  private partialBytes = 0;
  /** Plaintext not yet returned by next(). */
  private chunk: Uint8Array | null = null;
  private offset = 0;
  /** Set when the lengths did not match the plaintext; read by the port's counters. */
  mismatched = false;

  /** `overhead`: a connection's cutter started again after its handshake (see `cutAt`); none: a new connection's. */
  constructor(overhead?: number) {
    if (overhead !== undefined) this.overhead = overhead;
  }

  /** Nothing held: no record partly read, no length waiting for its plaintext, no plaintext left to return. */
  get idle(): boolean {
    return this.lengths === NO_LENGTHS && this.headerGot === 0 && this.bodyLeft === 0 && this.partial === null && this.chunk === null && !this.mismatched;
  }

  /** What a cutter started again for this connection needs: the overhead once the handshake is done; 0 when it cuts nothing. */
  get cutAt(): number {
    return this.overhead ?? 0;
  }

  /** A raw read: notes the length of every application-data record that starts in it. */
  ciphertext(data: Uint8Array): void {
    if (this.overhead === null) return;
    let i = 0;
    const n = data.length;
    while (i < n) {
      if (this.bodyLeft > 0) {
        const take = Math.min(this.bodyLeft, n - i);
        this.bodyLeft -= take;
        i += take;
        continue;
      }
      if (this.headerGot === 0 && n - i >= HEADER) {
        this.record(data[i]!, (data[i + 3]! << 8) | data[i + 4]!);
        i += HEADER;
        continue;
      }
      const buf = (this.headerBuf ??= new Uint8Array(HEADER));
      const take = Math.min(HEADER - this.headerGot, n - i);
      buf.set(data.subarray(i, i + take), this.headerGot);
      this.headerGot += take;
      i += take;
      if (this.headerGot === HEADER) {
        this.headerGot = 0;
        this.record(buf[0]!, (buf[3]! << 8) | buf[4]!);
      }
    }
  }

  private record(type: number, length: number): void {
    this.bodyLeft = length;
    if (type !== APPLICATION_DATA) return;
    if (this.lengths === NO_LENGTHS) this.lengths = [length];
    else this.lengths.push(length);
  }

  /**
   * The handshake is done. In TLS 1.3 the client's Finished travels as the first application-data
   * record, so it is forgotten here; `overhead` undefined turns cutting off.
   */
  handshakeDone(version: string, overhead: number | undefined): void {
    if (overhead === undefined) return this.stop();
    if (version === "TLSv1.3" && this.head < this.lengths.length) this.advance();
    this.overhead = overhead;
  }

  /** A read of the TLS half: call next() until it returns null. */
  plaintext(data: Uint8Array): void {
    this.chunk = data.length === 0 ? null : data;
    this.offset = 0;
  }

  /**
   * The next whole record of the plaintext given, or null when it has all been returned. A run of
   * full-size (MAX_RECORD) records comes as one piece; any other record comes alone.
   */
  next(): Uint8Array | null {
    const chunk = this.chunk;
    if (chunk === null) return null;
    const overhead = this.overhead;
    if (overhead === null || overhead === undefined) return this.rest(chunk);
    // A record that carries no plaintext (allowed, though Go never sends one) has nothing to cut.
    while (this.head < this.lengths.length && this.lengths[this.head] === overhead && this.partial === null) this.advance();
    if (this.head >= this.lengths.length) return this.mismatch(chunk);
    const want = this.lengths[this.head]! - overhead - this.partialBytes;
    const left = chunk.length - this.offset;
    if (want <= 0) return this.mismatch(chunk);
    if (left < want) {
      // The record goes on in a later read only if Bun's read buffer filled up; otherwise the lengths are wrong.
      if (chunk.length < FULL_READ) return this.mismatch(chunk);
      (this.partial ??= []).push(this.offset === 0 ? chunk : chunk.subarray(this.offset));
      this.partialBytes += left;
      this.chunk = null;
      return null;
    }
    this.advance();
    const start = this.offset;
    this.offset += want;
    if (this.partial === null && want === MAX_RECORD) this.extendRun(chunk, overhead);
    // The usual bulk case, a chunk that is one run of full-size records, is passed on as it is.
    const piece = start === 0 && this.offset === chunk.length ? chunk : chunk.subarray(start, this.offset);
    if (this.offset === chunk.length) this.chunk = null;
    return this.joined(piece);
  }

  /**
   * Takes the full-size records that follow a full-size one into the same piece: written as one, they
   * leave the partner's TLS socket as the same records (it cuts at MAX_RECORD, and a write it takes in
   * part is taken in whole records), at a fraction of the cost of a write each.
   */
  private extendRun(chunk: Uint8Array, overhead: number): void {
    while (this.head < this.lengths.length && this.lengths[this.head]! - overhead === MAX_RECORD && chunk.length - this.offset >= MAX_RECORD) {
      this.advance();
      this.offset += MAX_RECORD;
    }
  }

  private advance(): void {
    this.head++;
    if (this.head === this.lengths.length) {
      // Most connections are idle most of the time: they keep no array.
      this.lengths = NO_LENGTHS;
      this.head = 0;
    } else if (this.head > 1024) {
      this.lengths = this.lengths.slice(this.head);
      this.head = 0;
    }
  }

  /** Everything still held and the rest of `chunk`, as one read. */
  private rest(chunk: Uint8Array): Uint8Array {
    this.chunk = null;
    return this.joined(this.offset === 0 ? chunk : chunk.subarray(this.offset));
  }

  /** `piece` behind the start of a record held from earlier reads, if any, as one. */
  private joined(piece: Uint8Array): Uint8Array {
    const partial = this.partial;
    if (partial === null) return piece;
    partial.push(piece);
    const whole = Buffer.concat(partial, this.partialBytes + piece.length);
    this.partial = null;
    this.partialBytes = 0;
    return whole;
  }

  private mismatch(chunk: Uint8Array): Uint8Array {
    this.mismatched = true;
    this.stop();
    return this.rest(chunk);
  }

  private stop(): void {
    this.overhead = null;
    this.lengths = NO_LENGTHS;
    this.head = 0;
    this.headerBuf = null;
  }
}
