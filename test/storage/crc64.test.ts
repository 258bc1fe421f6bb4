import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { Crc64, combineCrc64, crc64, _internals } from '../../src/storage/crc64.js';

const CHECK = 11051210869376104954n;
const POLY = 0xc96c5795d7870f42n;
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Straightforward bit-at-a-time reference: reflected, poly 0xC96C5795D7870F42, init/xorout all ones. */
function referenceCrc64(buf: Uint8Array): bigint {
  const mask = 0xffffffffffffffffn;
  let crc = mask;
  for (const byte of buf) {
    crc ^= BigInt(byte);
    for (let k = 0; k < 8; k++) crc = crc & 1n ? (crc >> 1n) ^ POLY : crc >> 1n;
  }
  return crc ^ mask;
}

/** Reference for combine: appends lengthB zero bytes to A's raw register (slow, only for small lengths). */
function referenceCombine(crcA: bigint, crcB: bigint, lengthB: number): bigint {
  let crc = crcA;
  for (let i = 0; i < lengthB * 8; i++) crc = crc & 1n ? (crc >> 1n) ^ POLY : crc >> 1n;
  return crc ^ crcB;
}

const random64 = (): bigint => BigInt(`0x${randomBytes(8).toString('hex')}`);

/** a*b mod P in the reflected representation (bit 63 = x^0), as in zlib's multmodp. */
function multModP(a: bigint, b: bigint): bigint {
  let m = 1n << 63n;
  let p = 0n;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1n)) === 0n) break;
    }
    m >>= 1n;
    b = b & 1n ? (b >> 1n) ^ POLY : b >> 1n;
  }
  return p;
}

/** Independent combine: crcA * x^(8*len) mod P, by square-and-multiply on polynomials. */
function polyCombine(crcA: bigint, crcB: bigint, len: bigint): bigint {
  let result = 1n << 63n; // x^0
  let base = 1n << 62n; // x^1
  for (let e = 8n * len; e !== 0n; e >>= 1n) {
    if (e & 1n) result = multModP(result, base);
    base = multModP(base, base);
  }
  return multModP(result, crcA) ^ crcB;
}

describe('crc64 (CRC-64/XZ, OSS crc64ecma)', () => {
  it('matches the check value for "123456789"', () => {
    assert.equal(crc64(ascii('123456789')), CHECK);
    assert.equal(new Crc64().update(ascii('123456789')).digest(), CHECK);
    assert.equal(new Crc64().update(ascii('123456789')).toString(), '11051210869376104954');
    assert.equal(_internals.crc64Js(ascii('123456789')), CHECK);
    if (_internals.hasWasm) assert.equal(_internals.crc64Wasm(ascii('123456789')), CHECK);
  });

  it('is 0 for the empty input', () => {
    assert.equal(crc64(new Uint8Array(0)), 0n);
    assert.equal(new Crc64().digest(), 0n);
    assert.equal(new Crc64().toString(), '0');
    assert.equal(new Crc64().update(new Uint8Array(0)).digest(), 0n);
  });

  it('uses the WebAssembly fast path on this runtime', () => {
    assert.equal(_internals.hasWasm, true);
  });

  it('matches the bit-by-bit reference over random buffers (all paths, unaligned views)', () => {
    const lengths = [1, 2, 7, 8, 9, 15, 16, 17, 63, 64, 65, 127, 128, 129, 255, 256, 1000, 4099, 65536 + 13];
    for (let r = 0; r < 20; r++) lengths.push(randomInt(1, 5000));
    for (const len of lengths) {
      const backing = randomBytes(len + 8);
      for (const off of [0, 1, 2, 3, 5]) {
        const buf = new Uint8Array(backing.buffer, backing.byteOffset + off, len);
        const want = referenceCrc64(buf);
        assert.equal(crc64(buf), want, `crc64 len=${len} off=${off}`);
        assert.equal(_internals.crc64Js(buf), want, `js len=${len} off=${off}`);
        if (_internals.hasWasm) assert.equal(_internals.crc64Wasm(buf), want, `wasm len=${len} off=${off}`);
      }
    }
  });

  it('JS and wasm paths agree on inputs larger than the wasm window', () => {
    const buf = randomBytes(3 * 256 * 1024 + 12345);
    const js = _internals.crc64Js(buf);
    assert.equal(crc64(buf), js);
    if (_internals.hasWasm) assert.equal(_internals.crc64Wasm(buf), js);
    // Same data fed in odd-sized pieces.
    const c = new Crc64();
    for (let o = 0; o < buf.length; ) {
      const n = randomInt(1, 100_000);
      c.update(buf.subarray(o, o + n));
      o += n;
    }
    assert.equal(c.digest(), js);
  });

  it('incremental updates split at every offset equal the one-shot result', () => {
    const buf = randomBytes(300);
    const whole = crc64(buf);
    for (let i = 0; i <= buf.length; i++) {
      assert.equal(new Crc64().update(buf.subarray(0, i)).update(buf.subarray(i)).digest(), whole, `split ${i}`);
    }
    for (let i = 0; i <= buf.length; i += 7) {
      for (let j = i; j <= buf.length; j += 11) {
        const c = new Crc64().update(buf.subarray(0, i)).update(buf.subarray(i, j)).update(buf.subarray(j));
        assert.equal(c.digest(), whole, `split ${i},${j}`);
      }
    }
    const bytewise = new Crc64();
    for (let i = 0; i < buf.length; i++) bytewise.update(buf.subarray(i, i + 1));
    assert.equal(bytewise.digest(), whole);
  });

  it('can continue from a previous CRC', () => {
    const buf = randomBytes(5000);
    const whole = crc64(buf);
    for (const i of [0, 1, 100, 2500, 4999, 5000]) {
      assert.equal(new Crc64(crc64(buf.subarray(0, i))).update(buf.subarray(i)).digest(), whole);
    }
    assert.throws(() => new Crc64(-1n), RangeError);
    assert.throws(() => new Crc64(1n << 64n), RangeError);
  });
});

describe('combineCrc64', () => {
  it('equals the CRC of the concatenation for random splits, including empty sides', () => {
    for (let r = 0; r < 200; r++) {
      const buf = randomBytes(randomInt(0, 3000));
      const cut = r % 10 === 0 ? 0 : r % 10 === 1 ? buf.length : randomInt(0, buf.length + 1);
      const a = buf.subarray(0, cut);
      const b = buf.subarray(cut);
      const want = crc64(buf);
      assert.equal(combineCrc64(crc64(a), crc64(b), b.length), want, `len=${buf.length} cut=${cut}`);
      assert.equal(combineCrc64(crc64(a), crc64(b), BigInt(b.length)), want);
    }
  });

  it('handles lengthB = 0 and both sides empty', () => {
    const x = crc64(ascii('hello'));
    assert.equal(combineCrc64(x, 0n, 0), x);
    assert.equal(combineCrc64(x, 0n, 0n), x);
    assert.equal(combineCrc64(0n, 0n, 0), 0n);
    assert.equal(combineCrc64(0n, x, 5), x);
  });

  it('folds multipart-style chains of parts', () => {
    const parts = Array.from({ length: 12 }, () => randomBytes(randomInt(0, 20_000)));
    let acc = 0n;
    for (const p of parts) acc = combineCrc64(acc, crc64(p), p.length);
    assert.equal(acc, crc64(Buffer.concat(parts)));
  });

  it('matches a zero-shifting reference for small lengths (and so does the polynomial reference)', () => {
    for (let r = 0; r < 50; r++) {
      const a = random64();
      const b = random64();
      const len = randomInt(0, 300);
      const want = referenceCombine(a, b, len);
      assert.equal(combineCrc64(a, b, len), want);
      assert.equal(polyCombine(a, b, BigInt(len)), want);
    }
  });

  it('matches a polynomial (x^(8n) mod P) reference for large lengths, 5 GiB and beyond', () => {
    const lengths: (number | bigint)[] = [
      1, 2, 3, 255, 4096, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 777, 5 * 2 ** 30, 5 * 2 ** 30 + 1,
      2 ** 40 + 12345, Number.MAX_SAFE_INTEGER, 1n << 64n, (1n << 70n) + 3n,
    ];
    for (let r = 0; r < 20; r++) lengths.push(randomInt(0, 2 ** 48 - 1));
    for (const len of lengths) {
      const a = random64();
      const b = random64();
      assert.equal(combineCrc64(a, b, len), polyCombine(a, b, BigInt(len)), `len=${len}`);
    }
  });

  it('CRC of 2 MiB of zeros from doubling 1 MiB', () => {
    const mib = new Uint8Array(1 << 20);
    assert.equal(combineCrc64(crc64(mib), crc64(mib), mib.length), crc64(new Uint8Array(2 << 20)));
  });

  it('rejects invalid arguments', () => {
    assert.throws(() => combineCrc64(0n, 0n, -1), RangeError);
    assert.throws(() => combineCrc64(0n, 0n, -1n), RangeError);
    assert.throws(() => combineCrc64(0n, 0n, 1.5), RangeError);
    assert.throws(() => combineCrc64(0n, 0n, Number.NaN), RangeError);
    assert.throws(() => combineCrc64(1n << 64n, 0n, 1), RangeError);
    assert.throws(() => combineCrc64(0n, -1n, 1), RangeError);
  });
});
