/**
 * A pure-JavaScript decoder for the .xz container holding an LZMA2 stream, which is what
 * `dpkg-deb -Zxz` writes (and what Debian's own packages use for control.tar.xz).
 *
 * Why our own code: workerd refuses to compile WebAssembly from bytes at run time, which rules
 * out xz-decompress and the other wasm ports, and npm has no maintained pure-JS .xz decoder
 * (LZMA-JS and its forks read only the legacy .lzma container, not .xz with LZMA2). Control
 * members are small, so a one-shot decoder over a buffer with a hard output cap is enough.
 *
 * References: the .xz file format specification (tukaani.org/xz/xz-file-format.txt, §2–§3),
 * the LZMA2 chunk format and the LZMA decoder as specified by xz-embedded / liblzma.
 */

/** Why decoding stopped: malformed input, output over the cap, or a feature dpkg never writes. */
export type XzFailure = "corrupt" | "too_large" | "unsupported";

export class XzError extends Error {
  readonly reason: XzFailure;

  constructor(reason: XzFailure, message: string) {
    super(message);
    this.name = "XzError";
    this.reason = reason;
  }
}

const HEADER_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const FOOTER_MAGIC = [0x59, 0x5a];
const FILTER_LZMA2 = 0x21n;

/** Size in bytes of the integrity check for each check id (spec §2.1.1.2). */
function checkSize(id: number): number {
  if (id === 0) return 0;
  return 4 << Math.floor((id - 1) / 3);
}

/**
 * Decode the first stream of an .xz file, refusing to produce more than `maxOutput` bytes.
 *
 * Only the first: dpkg-deb (1.21.22, Debian bookworm) stops at the end of the first stream and
 * ignores whatever follows it (stream padding, a second stream, or bytes that are not xz at all),
 * unlike `xz -d` (spec §2.2); a control.tar split across streams is cut short for dpkg, so it must
 * be for us. test/fixtures/compression-variants.ts asks dpkg-deb about each of those cases.
 */
export function xzDecompress(input: Uint8Array, maxOutput: number): Uint8Array {
  const out = new OutputWindow(maxOutput);
  decodeStream(input, 0, out);
  return out.result();
}

function corrupt(message: string): XzError {
  return new XzError("corrupt", `xz: ${message}`);
}

function decodeStream(input: Uint8Array, start: number, out: OutputWindow): number {
  let pos = start;
  if (input.length - pos < 12) throw corrupt("truncated stream header");
  for (let i = 0; i < HEADER_MAGIC.length; i++) {
    if (input[pos + i] !== HEADER_MAGIC[i]) throw corrupt("bad magic bytes");
  }
  const flags = input.subarray(pos + 6, pos + 8);
  if (crc32(flags) !== readUint32LE(input, pos + 8)) throw corrupt("stream header CRC mismatch");
  if (flags[0] !== 0 || (flags[1] ?? 0) > 0x0f) throw new XzError("unsupported", "xz: unknown stream flags");
  const checkId = (flags[1] ?? 0) & 0x0f;
  pos += 12;

  let blocks = 0;
  for (;;) {
    if (pos >= input.length) throw corrupt("truncated before the index");
    if (input[pos] === 0x00) break; // index indicator
    pos = decodeBlock(input, pos, checkId, out);
    blocks++;
  }
  pos = skipIndex(input, pos, blocks);

  if (input.length - pos < 12) throw corrupt("truncated stream footer");
  const footerFlags = input.subarray(pos + 8, pos + 10);
  if (crc32(input.subarray(pos + 4, pos + 10)) !== readUint32LE(input, pos)) {
    throw corrupt("stream footer CRC mismatch");
  }
  if (footerFlags[0] !== flags[0] || footerFlags[1] !== flags[1]) {
    throw corrupt("stream footer flags differ from the header");
  }
  if (input[pos + 10] !== FOOTER_MAGIC[0] || input[pos + 11] !== FOOTER_MAGIC[1]) {
    throw corrupt("bad footer magic");
  }
  return pos + 12;
}

function decodeBlock(input: Uint8Array, start: number, checkId: number, out: OutputWindow): number {
  const headerSize = ((input[start] ?? 0) + 1) * 4;
  if (start + headerSize > input.length) throw corrupt("truncated block header");
  const header = input.subarray(start, start + headerSize);
  if (crc32(header.subarray(0, headerSize - 4)) !== readUint32LE(header, headerSize - 4)) {
    throw corrupt("block header CRC mismatch");
  }
  const blockFlags = header[1] ?? 0;
  if (blockFlags & 0x3c) throw new XzError("unsupported", "xz: reserved block flags set");
  const reader = { buf: header, pos: 2, end: headerSize - 4 };
  const compressedSize = blockFlags & 0x40 ? readVarint(reader) : undefined;
  const uncompressedSize = blockFlags & 0x80 ? readVarint(reader) : undefined;
  const filterCount = (blockFlags & 0x03) + 1;
  for (let i = 0; i < filterCount; i++) {
    const id = readVarint(reader);
    const propsSize = Number(readVarint(reader));
    if (reader.pos + propsSize > reader.end) throw corrupt("filter properties overrun the block header");
    if (id !== FILTER_LZMA2 || i !== filterCount - 1 || propsSize !== 1) {
      throw new XzError("unsupported", `xz: filter 0x${id.toString(16)} is not supported (only LZMA2)`);
    }
    // The dictionary size only bounds match distances; the whole output is our dictionary.
    if ((header[reader.pos] ?? 0xff) > 40) throw corrupt("LZMA2 dictionary size out of range");
    reader.pos += propsSize;
  }
  for (let i = reader.pos; i < reader.end; i++) {
    if (header[i] !== 0) throw corrupt("non-zero block header padding");
  }

  const dataStart = start + headerSize;
  const outStart = out.length;
  const dataEnd = decodeLzma2(input, dataStart, out);
  const produced = out.length - outStart;
  if (compressedSize !== undefined && BigInt(dataEnd - dataStart) !== compressedSize) {
    throw corrupt("compressed size differs from the block header");
  }
  if (uncompressedSize !== undefined && BigInt(produced) !== uncompressedSize) {
    throw corrupt("uncompressed size differs from the block header");
  }
  let pos = dataEnd;
  while ((pos - start) % 4 !== 0) {
    if (input[pos] !== 0) throw corrupt("non-zero block padding");
    pos++;
  }
  const size = checkSize(checkId);
  if (pos + size > input.length) throw corrupt("truncated block check");
  verifyCheck(checkId, out.slice(outStart), input.subarray(pos, pos + size));
  return pos + size;
}

function verifyCheck(checkId: number, data: Uint8Array, expected: Uint8Array): void {
  if (checkId === 1) {
    if (crc32(data) !== readUint32LE(expected, 0)) throw corrupt("CRC32 check failed");
  } else if (checkId === 4) {
    const [lo, hi] = crc64(data);
    if (lo !== readUint32LE(expected, 0) || hi !== readUint32LE(expected, 4)) {
      throw corrupt("CRC64 check failed");
    }
  }
  // Check id 0 is "none"; SHA-256 (10) and the reserved ids are not verified: the package's own
  // SHA-256 is computed over the whole file anyway, as xz-embedded does with unknown checks.
}

function skipIndex(input: Uint8Array, start: number, blocks: number): number {
  const reader = { buf: input, pos: start + 1, end: input.length };
  const records = readVarint(reader);
  if (records !== BigInt(blocks)) throw corrupt("index record count differs from the blocks");
  for (let i = 0n; i < records; i++) {
    readVarint(reader);
    readVarint(reader);
  }
  while ((reader.pos - start) % 4 !== 0) {
    if (input[reader.pos] !== 0) throw corrupt("non-zero index padding");
    reader.pos++;
  }
  if (reader.pos + 4 > input.length) throw corrupt("truncated index");
  if (crc32(input.subarray(start, reader.pos)) !== readUint32LE(input, reader.pos)) {
    throw corrupt("index CRC mismatch");
  }
  return reader.pos + 4;
}

interface VarintReader {
  buf: Uint8Array;
  pos: number;
  end: number;
}

function readVarint(r: VarintReader): bigint {
  let value = 0n;
  for (let i = 0; i < 9; i++) {
    if (r.pos >= r.end) throw corrupt("truncated variable-length integer");
    const byte = r.buf[r.pos++] ?? 0;
    value |= BigInt(byte & 0x7f) << BigInt(7 * i);
    if ((byte & 0x80) === 0) {
      if (byte === 0 && i > 0) throw corrupt("non-minimal variable-length integer");
      return value;
    }
  }
  throw corrupt("variable-length integer too long");
}

function readUint32LE(buf: Uint8Array, at: number): number {
  return ((buf[at] ?? 0) | ((buf[at + 1] ?? 0) << 8) | ((buf[at + 2] ?? 0) << 16) | ((buf[at + 3] ?? 0) << 24)) >>> 0;
}

/** The decoded output, which doubles as the LZMA dictionary (we keep everything anyway). */
class OutputWindow {
  #buf = new Uint8Array(4096);
  length = 0;
  /** Output position of the last dictionary reset; matches may not reach before it. */
  dictStart = 0;
  readonly max: number;

  constructor(max: number) {
    this.max = max;
  }

  #reserve(extra: number): void {
    const need = this.length + extra;
    if (need > this.max) {
      throw new XzError("too_large", `xz: output exceeds the limit of ${this.max} bytes`);
    }
    if (need <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < need) size *= 2;
    const grown = new Uint8Array(Math.min(size, Math.max(need, this.max)));
    grown.set(this.#buf.subarray(0, this.length));
    this.#buf = grown;
  }

  push(byte: number): void {
    this.#reserve(1);
    this.#buf[this.length++] = byte;
  }

  append(bytes: Uint8Array): void {
    this.#reserve(bytes.length);
    this.#buf.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** The byte `distance + 1` positions back, or 0 before the start of the dictionary. */
  peek(distance: number): number {
    const at = this.length - distance - 1;
    return at >= this.dictStart ? (this.#buf[at] ?? 0) : 0;
  }

  copyMatch(distance: number, len: number): void {
    if (distance >= this.length - this.dictStart) throw corrupt("match distance beyond the dictionary");
    this.#reserve(len);
    const buf = this.#buf;
    let from = this.length - distance - 1;
    for (let i = 0; i < len; i++) buf[this.length++] = buf[from++] ?? 0;
  }

  slice(from: number): Uint8Array {
    return this.#buf.subarray(from, this.length);
  }

  result(): Uint8Array {
    return this.#buf.slice(0, this.length);
  }
}

/**
 * Decode the LZMA2 chunks starting at `start` until the end marker; returns the offset just past it.
 * Each chunk is either stored bytes or an LZMA chunk with its own range-coder init (LZMA2 format).
 */
function decodeLzma2(input: Uint8Array, start: number, out: OutputWindow): number {
  let pos = start;
  let lzma: LzmaDecoder | undefined;
  let needDictReset = true;
  for (;;) {
    if (pos >= input.length) throw corrupt("truncated LZMA2 data");
    const control = input[pos++] ?? 0;
    if (control === 0x00) return pos;
    if (control >= 0xe0 || control === 0x01) {
      out.dictStart = out.length;
      needDictReset = false;
    } else if (needDictReset) {
      throw corrupt("LZMA2 stream does not begin with a dictionary reset");
    }
    if (control === 0x01 || control === 0x02) {
      if (pos + 2 > input.length) throw corrupt("truncated LZMA2 chunk header");
      const size = (((input[pos] ?? 0) << 8) | (input[pos + 1] ?? 0)) + 1;
      pos += 2;
      if (pos + size > input.length) throw corrupt("truncated stored LZMA2 chunk");
      out.append(input.subarray(pos, pos + size));
      pos += size;
      continue;
    }
    if (control < 0x80) throw corrupt(`invalid LZMA2 control byte 0x${control.toString(16)}`);
    if (pos + 4 > input.length) throw corrupt("truncated LZMA2 chunk header");
    const unpacked = ((control & 0x1f) << 16) + (((input[pos] ?? 0) << 8) | (input[pos + 1] ?? 0)) + 1;
    const packed = (((input[pos + 2] ?? 0) << 8) | (input[pos + 3] ?? 0)) + 1;
    pos += 4;
    const reset = (control >> 5) & 0x03;
    if (reset >= 2) {
      const props = input[pos++];
      if (props === undefined) throw corrupt("truncated LZMA2 properties");
      lzma = LzmaDecoder.fromProps(props);
    } else if (lzma === undefined) {
      throw corrupt("LZMA chunk without properties");
    } else if (reset === 1) {
      lzma.resetState();
    }
    if (pos + packed > input.length) throw corrupt("truncated LZMA chunk");
    lzma.decodeChunk(input.subarray(pos, pos + packed), out, unpacked);
    pos += packed;
  }
}

// LZMA constants, named as in the LZMA SDK.
const STATES = 12;
const POS_STATES_MAX = 16;
const LEN_LOW_BITS = 3;
const LEN_MID_BITS = 3;
const LEN_HIGH_BITS = 8;
const DIST_STATES = 4;
const DIST_SLOT_BITS = 6;
const DIST_MODEL_END = 14;
const FULL_DISTANCES = 128;
const ALIGN_BITS = 4;
const PROB_INIT = 1024;

class RangeDecoder {
  range = 0xffffffff;
  code = 0;
  pos: number;
  readonly buf: Uint8Array;

  constructor(buf: Uint8Array) {
    this.buf = buf;
    if (buf.length < 5 || buf[0] !== 0) throw corrupt("bad range coder initialisation");
    for (let i = 1; i < 5; i++) this.code = ((this.code << 8) | (buf[i] ?? 0)) >>> 0;
    this.pos = 5;
    if (this.code === this.range) throw corrupt("bad range coder initialisation");
  }

  normalize(): void {
    if (this.range < 0x1000000) {
      if (this.pos >= this.buf.length) throw corrupt("LZMA chunk ends inside a symbol");
      this.range = (this.range << 8) >>> 0;
      this.code = ((this.code << 8) | (this.buf[this.pos++] ?? 0)) >>> 0;
    }
  }

  bit(probs: Uint16Array, i: number): number {
    this.normalize();
    const p = probs[i] ?? PROB_INIT;
    const bound = (this.range >>> 11) * p;
    if (this.code < bound) {
      this.range = bound;
      probs[i] = p + ((2048 - p) >>> 5);
      return 0;
    }
    this.range = (this.range - bound) >>> 0;
    this.code = (this.code - bound) >>> 0;
    probs[i] = p - (p >>> 5);
    return 1;
  }

  tree(probs: Uint16Array, base: number, bits: number): number {
    let symbol = 1;
    for (let i = 0; i < bits; i++) symbol = (symbol << 1) | this.bit(probs, base + symbol);
    return symbol - (1 << bits);
  }

  reverseTree(probs: Uint16Array, base: number, bits: number): number {
    let symbol = 1;
    let result = 0;
    for (let i = 0; i < bits; i++) {
      const b = this.bit(probs, base + symbol);
      symbol = (symbol << 1) | b;
      result |= b << i;
    }
    return result;
  }

  direct(bits: number): number {
    let result = 0;
    for (let i = 0; i < bits; i++) {
      this.normalize();
      this.range >>>= 1;
      let b = 0;
      if (this.code >= this.range) {
        this.code = (this.code - this.range) >>> 0;
        b = 1;
      }
      result = ((result << 1) | b) >>> 0;
    }
    return result;
  }

  get finished(): boolean {
    return this.code === 0;
  }
}

class LengthDecoder {
  choice = new Uint16Array(2);
  low = new Uint16Array(POS_STATES_MAX << LEN_LOW_BITS);
  mid = new Uint16Array(POS_STATES_MAX << LEN_MID_BITS);
  high = new Uint16Array(1 << LEN_HIGH_BITS);

  reset(): void {
    for (const a of [this.choice, this.low, this.mid, this.high]) a.fill(PROB_INIT);
  }

  decode(rc: RangeDecoder, posState: number): number {
    if (rc.bit(this.choice, 0) === 0) return 2 + rc.tree(this.low, posState << LEN_LOW_BITS, LEN_LOW_BITS);
    if (rc.bit(this.choice, 1) === 0) {
      return 2 + 8 + rc.tree(this.mid, posState << LEN_MID_BITS, LEN_MID_BITS);
    }
    return 2 + 16 + rc.tree(this.high, 0, LEN_HIGH_BITS);
  }
}

class LzmaDecoder {
  isMatch = new Uint16Array(STATES * POS_STATES_MAX);
  isRep = new Uint16Array(STATES);
  isRepG0 = new Uint16Array(STATES);
  isRepG1 = new Uint16Array(STATES);
  isRepG2 = new Uint16Array(STATES);
  isRep0Long = new Uint16Array(STATES * POS_STATES_MAX);
  distSlot = new Uint16Array(DIST_STATES << DIST_SLOT_BITS);
  distSpecial = new Uint16Array(FULL_DISTANCES - DIST_MODEL_END);
  distAlign = new Uint16Array(1 << ALIGN_BITS);
  matchLen = new LengthDecoder();
  repLen = new LengthDecoder();
  literal: Uint16Array;
  state = 0;
  reps = [0, 0, 0, 0];
  readonly lc: number;
  readonly lp: number;
  readonly pb: number;

  private constructor(lc: number, lp: number, pb: number) {
    this.lc = lc;
    this.lp = lp;
    this.pb = pb;
    this.literal = new Uint16Array(0x300 << (lc + lp));
    this.resetState();
  }

  /** Properties byte = (pb * 5 + lp) * 9 + lc; LZMA2 requires lc + lp <= 4. */
  static fromProps(props: number): LzmaDecoder {
    if (props > (4 * 5 + 4) * 9 + 8) throw corrupt("invalid LZMA properties");
    const lc = props % 9;
    const lp = Math.floor(props / 9) % 5;
    const pb = Math.floor(props / 45);
    if (lc + lp > 4) throw corrupt("invalid LZMA properties (lc + lp > 4)");
    return new LzmaDecoder(lc, lp, pb);
  }

  resetState(): void {
    for (const a of [
      this.isMatch,
      this.isRep,
      this.isRepG0,
      this.isRepG1,
      this.isRepG2,
      this.isRep0Long,
      this.distSlot,
      this.distSpecial,
      this.distAlign,
      this.literal,
    ]) {
      a.fill(PROB_INIT);
    }
    this.matchLen.reset();
    this.repLen.reset();
    this.state = 0;
    this.reps = [0, 0, 0, 0];
  }

  decodeChunk(packed: Uint8Array, out: OutputWindow, unpacked: number): void {
    const rc = new RangeDecoder(packed);
    const end = out.length + unpacked;
    const pbMask = (1 << this.pb) - 1;
    const lpMask = (1 << this.lp) - 1;
    while (out.length < end) {
      const pos = out.length - out.dictStart;
      const posState = pos & pbMask;
      const s = this.state;
      if (rc.bit(this.isMatch, (s << 4) + posState) === 0) {
        this.#literal(rc, out, pos & lpMask);
        continue;
      }
      let len: number;
      if (rc.bit(this.isRep, s) === 0) {
        len = this.matchLen.decode(rc, posState);
        this.state = s < 7 ? 7 : 10;
        const dist = this.#distance(rc, len);
        if (dist === 0xffffffff) throw corrupt("end marker inside an LZMA2 chunk");
        this.reps = [dist, this.reps[0] ?? 0, this.reps[1] ?? 0, this.reps[2] ?? 0];
      } else {
        const [r0 = 0, r1 = 0, r2 = 0, r3 = 0] = this.reps;
        if (rc.bit(this.isRepG0, s) === 0) {
          if (rc.bit(this.isRep0Long, (s << 4) + posState) === 0) {
            this.state = s < 7 ? 9 : 11;
            out.copyMatch(r0, 1);
            continue;
          }
        } else if (rc.bit(this.isRepG1, s) === 0) {
          this.reps = [r1, r0, r2, r3];
        } else if (rc.bit(this.isRepG2, s) === 0) {
          this.reps = [r2, r0, r1, r3];
        } else {
          this.reps = [r3, r0, r1, r2];
        }
        len = this.repLen.decode(rc, posState);
        this.state = s < 7 ? 8 : 11;
      }
      if (out.length + len > end) throw corrupt("match runs past the end of the LZMA2 chunk");
      out.copyMatch(this.reps[0] ?? 0, len);
    }
    rc.normalize();
    if (rc.pos !== packed.length || !rc.finished) {
      throw corrupt("LZMA chunk size does not match its content");
    }
  }

  #literal(rc: RangeDecoder, out: OutputWindow, litPos: number): void {
    const prev = out.peek(0);
    const base = 0x300 * ((litPos << this.lc) + (prev >> (8 - this.lc)));
    let symbol = 1;
    if (this.state < 7) {
      while (symbol < 0x100) symbol = (symbol << 1) | rc.bit(this.literal, base + symbol);
    } else {
      // "Matched literal": the byte at rep0 steers the probabilities until the first mismatch.
      let matchByte = out.peek(this.reps[0] ?? 0) << 1;
      let offset = 0x100;
      while (symbol < 0x100) {
        const matchBit = matchByte & offset;
        matchByte <<= 1;
        if (rc.bit(this.literal, base + offset + matchBit + symbol) === 1) {
          symbol = (symbol << 1) | 1;
          offset = matchBit;
        } else {
          symbol <<= 1;
          offset ^= matchBit;
        }
      }
    }
    out.push(symbol & 0xff);
    const s = this.state;
    this.state = s < 4 ? 0 : s < 10 ? s - 3 : s - 6;
  }

  #distance(rc: RangeDecoder, len: number): number {
    const distState = Math.min(len - 2, DIST_STATES - 1);
    const slot = rc.tree(this.distSlot, distState << DIST_SLOT_BITS, DIST_SLOT_BITS);
    if (slot < 4) return slot;
    const direct = (slot >> 1) - 1;
    let dist = ((2 | (slot & 1)) << direct) >>> 0;
    if (slot < DIST_MODEL_END) {
      return (dist + rc.reverseTree(this.distSpecial, dist - slot - 1, direct)) >>> 0;
    }
    dist = (dist + ((rc.direct(direct - ALIGN_BITS) << ALIGN_BITS) >>> 0)) >>> 0;
    return (dist + rc.reverseTree(this.distAlign, 0, ALIGN_BITS)) >>> 0;
  }
}

const CRC32_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[i] = c >>> 0;
  }
  return table;
})();

function crc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = (CRC32_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** CRC-64/XZ (ECMA-182 polynomial, reflected) as two 32-bit halves, to stay off BigInt. */
const CRC64_TABLE = (() => {
  const lo = new Uint32Array(256);
  const hi = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let l = i;
    let h = 0;
    for (let k = 0; k < 8; k++) {
      const carry = l & 1;
      l = ((l >>> 1) | ((h & 1) << 31)) >>> 0;
      h >>>= 1;
      if (carry) {
        l = (l ^ 0xd7870f42) >>> 0;
        h = (h ^ 0xc96c5795) >>> 0;
      }
    }
    lo[i] = l;
    hi[i] = h;
  }
  return { lo, hi };
})();

function crc64(data: Uint8Array): [lo: number, hi: number] {
  let lo = 0xffffffff;
  let hi = 0xffffffff;
  for (const byte of data) {
    const i = (lo ^ byte) & 0xff;
    lo = (((lo >>> 8) | (hi << 24)) ^ (CRC64_TABLE.lo[i] ?? 0)) >>> 0;
    hi = ((hi >>> 8) ^ (CRC64_TABLE.hi[i] ?? 0)) >>> 0;
  }
  return [(lo ^ 0xffffffff) >>> 0, (hi ^ 0xffffffff) >>> 0];
}
