// The wire words and the incremental passcode reader, against every way a passcode can be cut into reads.
import { describe, expect, spyOn, test } from "bun:test";
import crypto, { randomUUID } from "node:crypto";
import { isBeat, PASSCODE_LENGTH, PasscodeReader, passcodeMatches } from "../../src/relay/protocol.ts";
import { seededRandom } from "../support/random.ts";

const bytes = (text: string) => new Uint8Array(Buffer.from(text, "latin1"));

describe("PasscodeReader", () => {
  const passcode = randomUUID();

  test("one read holding exactly the passcode", () => {
    const reader = new PasscodeReader();
    expect(reader.feed(bytes(passcode))).toBe(PASSCODE_LENGTH);
    expect(Buffer.from(reader.passcode).toString()).toBe(passcode);
  });

  test("every split into two reads", () => {
    for (let cut = 1; cut < PASSCODE_LENGTH; cut++) {
      const reader = new PasscodeReader();
      expect(reader.feed(bytes(passcode.slice(0, cut)))).toBe(-1);
      expect(reader.feed(bytes(passcode.slice(cut)))).toBe(PASSCODE_LENGTH - cut);
      expect(Buffer.from(reader.passcode).toString()).toBe(passcode);
    }
  });

  test("one byte per read", () => {
    const reader = new PasscodeReader();
    for (let i = 0; i < PASSCODE_LENGTH - 1; i++) expect(reader.feed(bytes(passcode[i]!))).toBe(-1);
    expect(reader.feed(bytes(passcode.at(-1)!))).toBe(1);
    expect(Buffer.from(reader.passcode).toString()).toBe(passcode);
  });

  test("payload glued behind the passcode, in one read or after a split", () => {
    const glued = bytes(`${passcode}GET / HTTP/1.1`);
    const whole = new PasscodeReader();
    const offset = whole.feed(glued);
    expect(Buffer.from(glued.subarray(offset)).toString()).toBe("GET / HTTP/1.1");

    const split = new PasscodeReader();
    expect(split.feed(glued.subarray(0, 20))).toBe(-1);
    const rest = glued.subarray(20);
    const at = split.feed(rest);
    expect(Buffer.from(split.passcode).toString()).toBe(passcode);
    expect(Buffer.from(rest.subarray(at)).toString()).toBe("GET / HTTP/1.1");
  });

  test("random cuts over many passcodes", () => {
    const rng = seededRandom(7);
    for (let round = 0; round < 500; round++) {
      const code = randomUUID();
      const payload = rng.bytes(rng.int(50));
      const stream = Buffer.concat([bytes(code), payload]);
      const reader = new PasscodeReader();
      let position = 0;
      let behind: Uint8Array | undefined;
      while (behind === undefined) {
        const size = 1 + rng.int(Math.min(40, stream.length - position) || 1);
        const chunk = stream.subarray(position, position + size);
        position += chunk.length;
        const offset = reader.feed(chunk);
        if (offset >= 0) behind = Buffer.concat([chunk.subarray(offset), stream.subarray(position)]);
        if (position >= stream.length && behind === undefined) throw new Error("stream ended before the passcode");
      }
      expect(Buffer.from(reader.passcode).toString()).toBe(code);
      expect(Buffer.from(behind).equals(Buffer.from(payload))).toBe(true);
    }
  });
});

describe("passcodeMatches", () => {
  test("right, wrong in the first or the last character, and stored passcodes of another length", () => {
    const code = randomUUID();
    expect(passcodeMatches(bytes(code), code)).toBe(true);
    expect(passcodeMatches(bytes(`x${code.slice(1)}`), code)).toBe(false);
    expect(passcodeMatches(bytes(`${code.slice(0, -1)}x`), code)).toBe(false);
    expect(passcodeMatches(bytes(code), "")).toBe(false);
    expect(passcodeMatches(bytes(code.slice(0, 35)), code.slice(0, 35))).toBe(false);
  });

  test("compares with crypto.timingSafeEqual, whose time does not depend on where the bytes differ", () => {
    const spy = spyOn(crypto, "timingSafeEqual");
    try {
      const code = randomUUID();
      passcodeMatches(bytes(randomUUID()), code);
      expect(spy).toHaveBeenCalledTimes(1);
      expect(Buffer.from(spy.mock.calls[0]![1] as Uint8Array).toString()).toBe(code);
    } finally {
      spy.mockRestore();
    }
  });
});

test("isBeat: only a read that is exactly BEAT or BEATBEAT", () => {
  expect(isBeat(bytes("BEAT"))).toBe(true);
  expect(isBeat(bytes("BEATBEAT"))).toBe(true);
  for (const other of ["BEA", "BEATS", "BEATBEA", "BEATBEATBEAT", "BEATXEAT", "XEATBEAT", "beat", "XEAT", "BXAT", "BEXT", "BEAX", ""]) expect(isBeat(bytes(other))).toBe(false);
});
