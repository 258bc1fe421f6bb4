/**
 * CRC-64/XZ, a.k.a. CRC64-ECMA as used by Alibaba OSS (`x-oss-hash-crc64ecma`):
 * ECMA-182 polynomial 0x42F0E1EBA9EA3693 (reflected 0xC96C5795D7870F42), init and xorout all ones,
 * reflected input/output. Check value: crc64("123456789") = 0x995DC9BBDF1939FA = 11051210869376104954.
 *
 * Hot path: slicing-by-16 in a tiny hand-assembled WebAssembly module (native i64 arithmetic), with a
 * pure-JS slicing-by-8 fallback (two uint32 halves, no BigInt) used for short inputs and whenever
 * WebAssembly is unavailable (e.g. `node --jitless`). BigInt is only used at the API boundary.
 */

const POLY_LO = 0xd7870f42;
const POLY_HI = 0xc96c5795;
const MASK64 = 0xffffffffffffffffn;

/** Number of slicing tables: 16 for the wasm path, the JS path uses the first 8. */
const SLICES = 16;

/**
 * Table k (k = 0..15), entry n lives at index k*256 + n. Table 0 is the classic bytewise table; table k
 * advances the CRC of byte n over k further zero bytes. Low/high 32-bit halves are kept apart.
 */
const T_LO = new Uint32Array(SLICES * 256);
const T_HI = new Uint32Array(SLICES * 256);

for (let n = 0; n < 256; n++) {
  let lo = n;
  let hi = 0;
  for (let b = 0; b < 8; b++) {
    const m = -(lo & 1);
    lo = ((lo >>> 1) | (hi << 31)) ^ (POLY_LO & m);
    hi = (hi >>> 1) ^ (POLY_HI & m);
  }
  T_LO[n] = lo;
  T_HI[n] = hi;
}
for (let k = 1; k < SLICES; k++) {
  for (let n = 0; n < 256; n++) {
    const lo = T_LO[(k - 1) * 256 + n]!;
    const hi = T_HI[(k - 1) * 256 + n]!;
    const x = lo & 0xff;
    T_LO[k * 256 + n] = ((lo >>> 8) | (hi << 24)) ^ T_LO[x]!;
    T_HI[k * 256 + n] = (hi >>> 8) ^ T_HI[x]!;
  }
}

// Result registers of the update functions (avoids allocating a pair per call).
let outLo = 0;
let outHi = 0;

// Per-slice views: separate table bases measured faster in V8 than one table with offsets.
const L0 = T_LO.subarray(0, 256), L1 = T_LO.subarray(256, 512), L2 = T_LO.subarray(512, 768), L3 = T_LO.subarray(768, 1024);
const L4 = T_LO.subarray(1024, 1280), L5 = T_LO.subarray(1280, 1536), L6 = T_LO.subarray(1536, 1792), L7 = T_LO.subarray(1792, 2048);
const H0 = T_HI.subarray(0, 256), H1 = T_HI.subarray(256, 512), H2 = T_HI.subarray(512, 768), H3 = T_HI.subarray(768, 1024);
const H4 = T_HI.subarray(1024, 1280), H5 = T_HI.subarray(1280, 1536), H6 = T_HI.subarray(1536, 1792), H7 = T_HI.subarray(1792, 2048);
/** Little-endian host: the Uint32Array view yields the bytes in CRC order. */
const LE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/**
 * Pure-JS slicing-by-8 over the raw (non-inverted) register `lo`/`hi`; result in outLo/outHi.
 * On little-endian hosts, 8-byte blocks are read through an aligned Uint32Array view.
 */
function updateJs(lo: number, hi: number, buf: Uint8Array): void {
  const len = buf.length;
  let i = 0;
  if (LE && len >= 64) {
    const head = (4 - (buf.byteOffset & 3)) & 3;
    for (; i < head; i++) {
      const x = (lo ^ buf[i]!) & 0xff;
      lo = ((lo >>> 8) | (hi << 24)) ^ L0[x]!;
      hi = (hi >>> 8) ^ H0[x]!;
    }
    const nw = ((len - i) >>> 3) * 2;
    const w = new Uint32Array(buf.buffer, buf.byteOffset + i, nw);
    for (let j = 0; j < nw; j += 2) {
      const a = lo ^ w[j]!, b = hi ^ w[j + 1]!;
      const i7 = a & 0xff, i6 = (a >>> 8) & 0xff, i5 = (a >>> 16) & 0xff, i4 = a >>> 24;
      const i3 = b & 0xff, i2 = (b >>> 8) & 0xff, i1 = (b >>> 16) & 0xff, i0 = b >>> 24;
      lo = L7[i7]! ^ L6[i6]! ^ L5[i5]! ^ L4[i4]! ^ L3[i3]! ^ L2[i2]! ^ L1[i1]! ^ L0[i0]!;
      hi = H7[i7]! ^ H6[i6]! ^ H5[i5]! ^ H4[i4]! ^ H3[i3]! ^ H2[i2]! ^ H1[i1]! ^ H0[i0]!;
    }
    i += nw * 4;
  }
  for (; i < len; i++) {
    const x = (lo ^ buf[i]!) & 0xff;
    lo = ((lo >>> 8) | (hi << 24)) ^ L0[x]!;
    hi = (hi >>> 8) ^ H0[x]!;
  }
  outLo = lo;
  outHi = hi;
}

// ---------------------------------------------------------------------------------------------------
// WebAssembly slicing-by-16. Memory layout (5 pages, fixed): tables at 0 (16 tables x 256 x i64, 32 KiB),
// CRC register (i64) at 32768, input window at 65536 (256 KiB). The module, as WAT:
//
// (module
//   (memory (export "m") 5)
//   (func (export "u") (param $p i32) (param $end i32)        ;; $end arrives as a length
//     (local $crc i64) (local $end16 i32) (local $a i32) (local $b i32) (local $c i32) (local $d i32)
//     (local.set $end (i32.add (local.get $p) (local.get $end)))
//     (local.set $crc (i64.load offset=32768 (i32.const 0)))
//     (local.set $end16 (i32.add (local.get $p)
//       (i32.and (i32.sub (local.get $end) (local.get $p)) (i32.const -16))))
//     (block $b16 (loop $l16
//       (br_if $b16 (i32.ge_u (local.get $p) (local.get $end16)))
//       (local.set $a (i32.wrap_i64 (local.tee $crc (i64.xor (local.get $crc) (i64.load (local.get $p))))))
//       (local.set $b (i32.wrap_i64 (i64.shr_u (local.get $crc) (i64.const 32))))
//       (local.set $c (i32.load offset=8 (local.get $p)))
//       (local.set $d (i32.load offset=12 (local.get $p)))
//       (local.set $crc (i64.xor (i64.xor ... (T 15 $a 0) (T 14 $a 8)) ... (T 0 $d 24)))
//       ;; where (T k $v s) = (i64.load offset=k*2048 (i32.and (<$v shifted so byte s/8 lands at bit 3>)
//       ;;                                                     (i32.const 0x7f8)))
//       ;; i.e. byte j of the 16-byte block indexes table 15-j
//       (local.set $p (i32.add (local.get $p) (i32.const 16)))
//       (br $l16)))
//     (block $b1 (loop $l1
//       (br_if $b1 (i32.ge_u (local.get $p) (local.get $end)))
//       (local.set $crc (i64.xor
//         (i64.load (i32.shl (i32.and (i32.wrap_i64 (i64.xor (local.get $crc) (i64.load8_u (local.get $p))))
//                                     (i32.const 0xff)) (i32.const 3)))
//         (i64.shr_u (local.get $crc) (i64.const 8))))
//       (local.set $p (i32.add (local.get $p) (i32.const 1)))
//       (br $l1)))
//     (i64.store offset=32768 (i32.const 0) (local.get $crc))))
// ---------------------------------------------------------------------------------------------------

const WASM_STATE = 32768;
const WASM_DATA = 65536;
const WASM_WINDOW = 256 * 1024;
const WASM_PAGES = (WASM_DATA + WASM_WINDOW) / 65536;
/** Below this many bytes the JS path is used (the copy + call into wasm is not worth it). */
const WASM_MIN = 128;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

function buildWasm(): Uint8Array {
  // Opcodes.
  const BLOCK = 0x02, LOOP = 0x03, BR = 0x0c, BR_IF = 0x0d, END = 0x0b, VOID = 0x40;
  const I32_LOAD = 0x28, I64_LOAD = 0x29, I64_LOAD8_U = 0x31, I64_STORE = 0x37;
  const I32_GE_U = 0x4f, I32_ADD = 0x6a, I32_SUB = 0x6b, I32_AND = 0x71, I32_SHL = 0x74, I32_SHR_U = 0x76;
  const I64_XOR = 0x85, I64_SHR_U = 0x88, I32_WRAP_I64 = 0xa7;
  // Locals: 0 $p, 1 $end (params), 2 $crc (i64), 3 $end16, 4 $a, 5 $b, 6 $c, 7 $d.
  const get = (i: number) => [0x20, i];
  const set = (i: number) => [0x21, i];
  const tee = (i: number) => [0x22, i];
  const i32 = (v: number) => [0x41, ...sleb(v)];
  const i64 = (v: number) => [0x42, ...sleb(v)];
  const load64 = (offset: number) => [I64_LOAD, 3, ...uleb(offset)];
  // i64 entry of table k for byte `shift/8` of local v: address = byte * 8 + k * 2048.
  const term = (k: number, v: number, shift: number) => [
    ...get(v),
    ...(shift === 0 ? [...i32(3), I32_SHL] : [...i32(shift - 3), I32_SHR_U]),
    ...i32(0x7f8),
    I32_AND,
    ...load64(k * 2048),
  ];
  const terms: number[] = [];
  for (let j = 0; j < 16; j++) {
    terms.push(...term(15 - j, 4 + (j >> 2), (j & 3) * 8));
    if (j > 0) terms.push(I64_XOR);
  }
  const body = [
    ...get(0), ...get(1), I32_ADD, ...set(1),
    ...i32(0), ...load64(WASM_STATE), ...set(2),
    ...get(0), ...get(1), ...get(0), I32_SUB, ...i32(-16), I32_AND, I32_ADD, ...set(3),
    BLOCK, VOID, LOOP, VOID,
    ...get(0), ...get(3), I32_GE_U, BR_IF, 1,
    ...get(2), ...get(0), ...load64(0), I64_XOR, ...tee(2), I32_WRAP_I64, ...set(4),
    ...get(2), ...i64(32), I64_SHR_U, I32_WRAP_I64, ...set(5),
    ...get(0), I32_LOAD, 2, 8, ...set(6),
    ...get(0), I32_LOAD, 2, 12, ...set(7),
    ...terms, ...set(2),
    ...get(0), ...i32(16), I32_ADD, ...set(0),
    BR, 0,
    END, END,
    BLOCK, VOID, LOOP, VOID,
    ...get(0), ...get(1), I32_GE_U, BR_IF, 1,
    ...get(2), ...get(0), I64_LOAD8_U, 0, 0, I64_XOR, I32_WRAP_I64, ...i32(0xff), I32_AND, ...i32(3), I32_SHL,
    ...load64(0),
    ...get(2), ...i64(8), I64_SHR_U, I64_XOR, ...set(2),
    ...get(0), ...i32(1), I32_ADD, ...set(0),
    BR, 0,
    END, END,
    ...i32(0), ...get(2), I64_STORE, 3, ...uleb(WASM_STATE),
    END,
  ];
  const func = [2, 1, 0x7e, 5, 0x7f, ...body]; // local decls: 1 x i64, 5 x i32
  const section = (id: number, content: number[]) => [id, ...uleb(content.length), ...content];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 2, 0x7f, 0x7f, 0]), // type 0: (i32, i32) -> ()
    ...section(3, [1, 0]), // func 0: type 0
    ...section(5, [1, 0, WASM_PAGES]), // memory: min WASM_PAGES, no max
    ...section(7, [2, 1, 0x6d, 2, 0, 1, 0x75, 0, 0]), // export "m" = memory 0, "u" = func 0
    ...section(10, [1, ...uleb(func.length), ...func]),
  ]);
}

interface WasmCrc {
  update: (ptr: number, len: number) => void;
  bytes: Uint8Array;
  view: DataView;
}

/** The slice of the WebAssembly JS API used here (not in this project's lib/@types). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
}

function initWasm(): WasmCrc | null {
  try {
    const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
    if (api === undefined) return null;
    const instance = new api.Instance(new api.Module(buildWasm()));
    const memory = instance.exports['m'] as { buffer: ArrayBuffer };
    const update = instance.exports['u'] as (ptr: number, len: number) => void;
    const view = new DataView(memory.buffer);
    for (let j = 0; j < SLICES * 256; j++) {
      view.setUint32(j * 8, T_LO[j]!, true);
      view.setUint32(j * 8 + 4, T_HI[j]!, true);
    }
    return { update, bytes: new Uint8Array(memory.buffer), view };
  } catch {
    return null;
  }
}

const wasm = initWasm();

/** Wasm slicing-by-16 over the raw register; result in outLo/outHi. Requires `wasm` non-null. */
function updateWasm(w: WasmCrc, lo: number, hi: number, buf: Uint8Array): void {
  const { view, bytes, update } = w;
  view.setUint32(WASM_STATE, lo, true);
  view.setUint32(WASM_STATE + 4, hi, true);
  const len = buf.length;
  for (let off = 0; off < len; off += WASM_WINDOW) {
    const n = Math.min(WASM_WINDOW, len - off);
    bytes.set(off === 0 && n === len ? buf : buf.subarray(off, off + n), WASM_DATA);
    update(WASM_DATA, n);
  }
  outLo = view.getUint32(WASM_STATE, true);
  outHi = view.getUint32(WASM_STATE + 4, true);
}

function update(lo: number, hi: number, buf: Uint8Array): void {
  if (wasm !== null && buf.length >= WASM_MIN) updateWasm(wasm, lo, hi, buf);
  else updateJs(lo, hi, buf);
}

function toBigInt(lo: number, hi: number): bigint {
  return (BigInt(~hi >>> 0) << 32n) | BigInt(~lo >>> 0);
}

function checkCrc(crc: bigint, name: string): void {
  if (typeof crc !== 'bigint' || crc < 0n || crc > MASK64) {
    throw new RangeError(`${name} must be an unsigned 64-bit bigint`);
  }
}

/** Incremental CRC-64/XZ (OSS crc64ecma). */
export class Crc64 {
  // Raw (pre-xorout) register halves.
  private lo: number;
  private hi: number;

  /** @param initial CRC of data already processed, to continue from (default: empty input). */
  constructor(initial: bigint = 0n) {
    checkCrc(initial, 'initial');
    const raw = initial ^ MASK64;
    this.lo = Number(raw & 0xffffffffn);
    this.hi = Number(raw >> 32n);
  }

  update(buf: Uint8Array): this {
    if (buf.length === 0) return this;
    update(this.lo, this.hi, buf);
    this.lo = outLo;
    this.hi = outHi;
    return this;
  }

  digest(): bigint {
    return toBigInt(this.lo, this.hi);
  }

  /** Unsigned decimal, as in the `x-oss-hash-crc64ecma` header. */
  toString(): string {
    return this.digest().toString();
  }
}

/** One-shot CRC-64/XZ of `buf`. */
export function crc64(buf: Uint8Array): bigint {
  update(~0, ~0, buf);
  return toBigInt(outLo, outHi);
}

// ---------------------------------------------------------------------------------------------------
// combine: zlib's crc32_combine (GF(2) matrix squaring) for 64 bits. A matrix is 64 columns (lo, hi
// pairs in a Uint32Array(128)); column n is the image of register bit n. ZEROS[k] is the operator that
// feeds 2^k zero bytes through the register; it is built lazily by repeated squaring and cached, so a
// combine costs at most one 64x64 matrix-vector product per set bit of the length.
// ---------------------------------------------------------------------------------------------------

let vecLo = 0;
let vecHi = 0;

function matTimes(mat: Uint32Array, lo: number, hi: number): void {
  let rLo = 0;
  let rHi = 0;
  for (let n = 0; lo !== 0; n++, lo >>>= 1) {
    if (lo & 1) {
      rLo ^= mat[2 * n]!;
      rHi ^= mat[2 * n + 1]!;
    }
  }
  for (let n = 32; hi !== 0; n++, hi >>>= 1) {
    if (hi & 1) {
      rLo ^= mat[2 * n]!;
      rHi ^= mat[2 * n + 1]!;
    }
  }
  vecLo = rLo;
  vecHi = rHi;
}

function matSquare(mat: Uint32Array): Uint32Array {
  const sq = new Uint32Array(128);
  for (let n = 0; n < 64; n++) {
    matTimes(mat, mat[2 * n]!, mat[2 * n + 1]!);
    sq[2 * n] = vecLo;
    sq[2 * n + 1] = vecHi;
  }
  return sq;
}

const ZEROS: Uint32Array[] = [];

function zerosOperator(k: number): Uint32Array {
  if (ZEROS.length === 0) {
    // Operator for one zero bit: bit 0 -> polynomial, bit n -> bit n-1.
    let op: Uint32Array = new Uint32Array(128);
    op[0] = POLY_LO;
    op[1] = POLY_HI;
    for (let n = 1; n < 64; n++) {
      const b = n - 1;
      if (b < 32) op[2 * n] = 2 ** b;
      else op[2 * n + 1] = 2 ** (b - 32);
    }
    op = matSquare(op); // 2 bits
    op = matSquare(op); // 4 bits
    op = matSquare(op); // 1 byte
    ZEROS.push(op);
  }
  while (ZEROS.length <= k) ZEROS.push(matSquare(ZEROS[ZEROS.length - 1]!));
  return ZEROS[k]!;
}

/**
 * CRC of A||B given crc64(A), crc64(B) and B's length in bytes (any size, e.g. multipart totals > 4 GiB).
 */
export function combineCrc64(crcA: bigint, crcB: bigint, lengthB: number | bigint): bigint {
  checkCrc(crcA, 'crcA');
  checkCrc(crcB, 'crcB');
  let len: bigint;
  if (typeof lengthB === 'bigint') len = lengthB;
  else if (Number.isSafeInteger(lengthB)) len = BigInt(lengthB);
  else throw new RangeError('lengthB must be a non-negative safe integer or bigint');
  if (len < 0n) throw new RangeError('lengthB must be non-negative');
  let lo = Number(crcA & 0xffffffffn);
  let hi = Number(crcA >> 32n);
  for (let k = 0; len !== 0n; k++, len >>= 1n) {
    if (len & 1n) {
      matTimes(zerosOperator(k), lo, hi);
      lo = vecLo;
      hi = vecHi;
    }
  }
  return ((BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)) ^ crcB;
}

/** Internals exposed for tests and benchmarks only. */
export const _internals = {
  hasWasm: wasm !== null,
  crc64Js(buf: Uint8Array): bigint {
    updateJs(~0, ~0, buf);
    return toBigInt(outLo, outHi);
  },
  crc64Wasm(buf: Uint8Array): bigint {
    if (wasm === null) throw new Error('WebAssembly unavailable');
    updateWasm(wasm, ~0, ~0, buf);
    return toBigInt(outLo, outHi);
  },
};
