// The record cutter on its own: ciphertext headers split and glued any way, plaintext cut at the records.
import { describe, expect, test } from "bun:test";
import { MAX_RECORD, RecordCutter, recordOverhead } from "../../src/relay/records.ts";
import { seededRandom } from "../support/random.ts";

const TLS13 = 17;

/** A record header and a body of `length` bytes (the content does not matter to the cutter). */
function record(type: number, length: number): Uint8Array {
  const bytes = new Uint8Array(5 + length);
  bytes[0] = type;
  bytes[1] = 3;
  bytes[2] = 3;
  bytes[3] = length >> 8;
  bytes[4] = length & 0xff;
  return bytes;
}

/** Plaintexts of the given sizes, each filled with its own index so that a wrong cut shows. */
function plaintexts(sizes: number[]): Uint8Array[] {
  return sizes.map((size, i) => new Uint8Array(size).fill(i % 256));
}

/** Feeds `raw` in the given cuts, then the joined plaintext in the given cuts; returns what next() gave. */
function run(cutter: RecordCutter, raw: Uint8Array, rawCuts: number[], plain: Uint8Array, plainCuts: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  for (const cut of [...rawCuts, raw.length]) {
    cutter.ciphertext(raw.subarray(at, cut));
    at = cut;
  }
  at = 0;
  for (const cut of [...plainCuts, plain.length]) {
    cutter.plaintext(plain.subarray(at, cut));
    for (let r = cutter.next(); r !== null; r = cutter.next()) out.push(r.slice());
    at = cut;
  }
  return out;
}

const concat = (parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

/**
 * The pieces are the records, in order and byte for byte, each alone, except that consecutive full-size
 * records may come as one piece (they leave the partner's TLS socket as the same records).
 */
function expectRecords(pieces: Uint8Array[], records: Uint8Array[]): void {
  expect(Buffer.from(concat(pieces)).equals(concat(records))).toBe(true);
  let next = 0;
  for (const piece of pieces) {
    let length = 0;
    const first = next;
    while (length < piece.length) length += records[next++]!.length;
    expect(length).toBe(piece.length);
    if (next - first > 1) for (let i = first; i < next; i++) expect(records[i]!.length).toBe(MAX_RECORD);
  }
}

describe("RecordCutter", () => {
  test("TLS 1.3: the client's Finished is skipped and each application record comes out alone", () => {
    const sizes = [36, 9, 5, 9, 5, 3, 4];
    const cutter = new RecordCutter();
    const raw = concat([record(20, 1), record(23, 36 + TLS13), ...sizes.map((n) => record(23, n + TLS13))]);
    cutter.ciphertext(raw);
    cutter.handshakeDone("TLSv1.3", TLS13);
    const texts = plaintexts(sizes);
    const out = run(cutter, new Uint8Array(0), [], concat(texts), []);
    expect(out).toEqual(texts);
    expect(cutter.mismatched).toBe(false);
  });

  test("headers split over raw reads and records split over plaintext reads, at random", () => {
    const rng = seededRandom(7);
    for (let round = 0; round < 300; round++) {
      // Small records, records of any size, and bulk: mostly full-size records with a few short ones.
      const size = [() => 1 + rng.int(40), () => 1 + rng.int(MAX_RECORD), () => (rng.int(4) === 0 ? 1 + rng.int(MAX_RECORD) : MAX_RECORD)][round % 3]!;
      const sizes = Array.from({ length: 1 + rng.int(30) }, size);
      const raw = concat(sizes.map((n) => record(23, n + 24)));
      const rawCuts = Array.from({ length: rng.int(10) }, () => rng.int(raw.length)).sort((a, b) => a - b);
      const cutter = new RecordCutter();
      cutter.handshakeDone("TLSv1.2", 24);
      const texts = plaintexts(sizes);
      // Plaintext arrives one read per group of whole records, as Bun decrypts them.
      const plainCuts: number[] = [];
      let at = 0;
      for (const n of sizes) {
        at += n;
        if (rng.int(3) === 0) plainCuts.push(at);
      }
      expectRecords(run(cutter, raw, rawCuts, concat(texts), plainCuts), texts);
      expect(cutter.mismatched).toBe(false);
    }
  });

  test("handshake and alert records are not cut into the data; empty records are skipped", () => {
    const cutter = new RecordCutter();
    cutter.handshakeDone("TLSv1.2", 16);
    const raw = concat([record(22, 40), record(23, 10 + 16), record(21, 2), record(23, 16), record(23, 7 + 16)]);
    const texts = plaintexts([10, 7]);
    expect(run(cutter, raw, [3, 47], concat(texts), [])).toEqual(texts);
    expect(cutter.mismatched).toBe(false);
  });

  test("a record longer than one plaintext read is joined, when Bun's read buffer filled up", () => {
    const cutter = new RecordCutter();
    cutter.handshakeDone("TLSv1.3", TLS13);
    // Plaintext reads end inside a record only at Bun's buffer size; 300 KiB of 16 KiB records stands in for it.
    const sizes = Array.from({ length: 40 }, () => 16384);
    const raw = concat(sizes.map((n) => record(23, n + TLS13)));
    const texts = plaintexts(sizes);
    const cut = 300 * 1024 + 5;
    const out = run(cutter, raw, [], concat(texts), [cut]);
    expectRecords(out, texts);
    // Full-size records in a row come as runs: far fewer writes than records.
    expect(out.length).toBeLessThan(5);
  });

  test("lengths that do not match (a planted off-by-one) cost boundaries for one read, never bytes", () => {
    for (const delta of [1, -1]) {
      const cutter = new RecordCutter();
      cutter.handshakeDone("TLSv1.3", TLS13);
      const sizes = [100, 5, 200, 3];
      const raw = concat(sizes.map((n, i) => record(23, n + TLS13 + (i === 1 ? delta : 0))));
      const texts = plaintexts(sizes);
      const plain = concat(texts);
      const out = run(cutter, raw, [], plain, [105]);
      expect(concat(out)).toEqual(plain);
      expect(cutter.mismatched).toBe(true);
      // From then on every read is passed on as it is.
      cutter.plaintext(Uint8Array.of(1, 2, 3));
      expect(cutter.next()).toEqual(Uint8Array.of(1, 2, 3));
      expect(cutter.next()).toBeNull();
    }
  });

  test("more plaintext than the records announced is passed on whole", () => {
    const cutter = new RecordCutter();
    cutter.handshakeDone("TLSv1.3", TLS13);
    cutter.ciphertext(record(23, 4 + TLS13));
    cutter.plaintext(new Uint8Array(10).fill(9));
    expect(cutter.next()!.length).toBe(4);
    expect(cutter.next()!.length).toBe(6);
    expect(cutter.next()).toBeNull();
  });

  test("a suite without a fixed overhead turns cutting off: reads pass as they are", () => {
    expect(recordOverhead("TLSv1.2", "ECDHE-RSA-AES128-SHA")).toBeUndefined();
    const cutter = new RecordCutter();
    cutter.handshakeDone("TLSv1.2", undefined);
    cutter.ciphertext(concat([record(23, 30), record(23, 30)]));
    cutter.plaintext(new Uint8Array(20));
    expect(cutter.next()!.length).toBe(20);
    expect(cutter.next()).toBeNull();
    expect(cutter.mismatched).toBe(false);
  });

  test("overheads: TLS 1.3 any suite, TLS 1.2 GCM and ChaCha20", () => {
    expect(recordOverhead("TLSv1.3", "TLS_AES_128_GCM_SHA256")).toBe(17);
    expect(recordOverhead("TLSv1.3", "TLS_CHACHA20_POLY1305_SHA256")).toBe(17);
    expect(recordOverhead("TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384")).toBe(24);
    expect(recordOverhead("TLSv1.2", "ECDHE-ECDSA-CHACHA20-POLY1305")).toBe(16);
    expect(recordOverhead("TLSv1.1", "ECDHE-RSA-AES128-SHA")).toBeUndefined();
  });

  test("a cutter dropped whenever it holds nothing and started again from cutAt cuts as one kept throughout", () => {
    const rng = seededRandom(11);
    let dropped = 0;
    for (let round = 0; round < 200; round++) {
      const sizes = Array.from({ length: 1 + rng.int(30) }, () => (rng.int(3) === 0 ? MAX_RECORD : 1 + rng.int(rng.int(2) === 0 ? 40 : MAX_RECORD)));
      const texts = plaintexts(sizes);
      const ends: number[] = [];
      const raw = concat(sizes.map((n) => record(23, n + TLS13)));
      for (let at = 0, i = 0; i < sizes.length; i++) ends.push((at += sizes[i]! + TLS13 + 5));
      // Kernel reads cut the ciphertext anywhere; each is followed by the plaintext of the records it completed.
      const cuts = [...new Set(Array.from({ length: rng.int(12) }, () => 1 + rng.int(raw.length - 1)))].sort((a, b) => a - b);
      let cutter: RecordCutter | null = new RecordCutter();
      cutter.handshakeDone("TLSv1.2", TLS13);
      let cutAt = cutter.cutAt;
      const out: Uint8Array[] = [];
      let from = 0;
      let done = 0;
      for (const to of [...cuts, raw.length]) {
        cutter ??= new RecordCutter(cutAt);
        cutter.ciphertext(raw.subarray(from, to));
        from = to;
        let complete = done;
        while (complete < sizes.length && ends[complete]! <= to) complete++;
        if (complete === done) continue; // no record finished in this read: Bun hands no plaintext
        cutter.plaintext(concat(texts.slice(done, complete)));
        done = complete;
        for (let r = cutter.next(); r !== null; r = cutter.next()) out.push(r.slice());
        if (cutter.idle) {
          cutAt = cutter.cutAt;
          cutter = null;
          dropped++;
        }
      }
      expectRecords(out, texts);
      expect(cutter).toBeNull(); // every record was read: nothing is held
    }
    expect(dropped).toBeGreaterThan(200);
  });

  test("a cutter holding part of a record, or lengths still to be read, is not idle", () => {
    const cutter = new RecordCutter();
    cutter.handshakeDone("TLSv1.3", TLS13);
    expect(cutter.idle).toBe(true);
    expect(cutter.cutAt).toBe(TLS13);
    const raw = concat([record(23, 10 + TLS13), record(23, 5 + TLS13)]);
    cutter.ciphertext(raw.subarray(0, 20)); // the second record's header is still to come
    expect(cutter.idle).toBe(false);
    cutter.ciphertext(raw.subarray(20));
    cutter.plaintext(new Uint8Array(10));
    expect(cutter.next()?.length).toBe(10);
    expect(cutter.next()).toBeNull();
    expect(cutter.idle).toBe(false); // the second record's length waits for its plaintext
    cutter.plaintext(new Uint8Array(5));
    expect(cutter.next()?.length).toBe(5);
    expect(cutter.next()).toBeNull();
    expect(cutter.idle).toBe(true);
  });
});
