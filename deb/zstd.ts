/**
 * The first frame of a zstd member, found by walking its headers (RFC 8878 §3.1), and decoded by
 * libzstd through node:zlib.
 *
 * Why we frame it ourselves instead of handing the whole member to `zstdDecompressSync`:
 * - dpkg-deb (1.21.22, Debian bookworm) decodes the first frame only and ignores whatever follows
 *   it, even bytes that are not zstd at all; a control.tar split across frames is cut short for
 *   dpkg. Node decodes the first frame too but refuses bytes after it that are not a frame, and
 *   workerd decodes later frames only when the first happens to end where its buffer does.
 * - workerd's `zstdDecompressSync` threw "unexpected end of file" on a complete frame whose output
 *   was exactly 40960 × 2^k bytes (its output buffer's sizes), which a GNU tar of 10240-byte records
 *   hits: its end-of-input check (as far as its source shows) took the full buffer for a cut frame.
 *   Node's makes no such check and returns a frame cut inside its checksum as if it were whole.
 * Walking the frame settles completeness the same way in both runtimes, so the decoder is told
 * not to judge the end of input (`finishFlush: ZSTD_e_continue`); it still checks every block, the
 * content size and the checksum, and `maxOutputLength` still caps the output.
 */
import { constants, zstdDecompressSync } from "node:zlib";
import { checkOutputCap, zlibOutputLimit } from "./zlib-cap.ts";

const FRAME_MAGIC = 0xfd2fb528;
/** Skippable frames use 0x184D2A50 to 0x184D2A5F (RFC 8878 §3.1.2). */
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;

/** Thrown for a member that is not a whole zstd frame; the message says what is wrong. */
export class ZstdFrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ZstdFrameError";
  }
}

/**
 * Decode the first frame of `member` as dpkg-deb does, refusing output above `maxOutput` with
 * node:zlib's kind of limit error (zlib-cap.ts).
 */
export function zstdFirstFrame(member: Uint8Array, maxOutput: number): Uint8Array {
  const end = firstFrameEnd(member);
  // A skippable frame first decodes to nothing, and dpkg stops there.
  if (end === 0) return new Uint8Array(0);
  const out = zstdDecompressSync(member.subarray(0, end), {
    maxOutputLength: zlibOutputLimit(maxOutput),
    finishFlush: constants.ZSTD_e_continue,
  });
  return checkOutputCap(out, maxOutput);
}

/** Where the first (zstd) frame ends; 0 when the first frame is a skippable one. */
function firstFrameEnd(bytes: Uint8Array): number {
  const magic = uint32(bytes, 0, "the frame magic");
  if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) return 0;
  if (magic !== FRAME_MAGIC) throw new ZstdFrameError("not a zstd frame (unknown magic number)");

  // Frame_Header_Descriptor (§3.1.1.1.1).
  const descriptor = byte(bytes, 4, "the frame header");
  const contentSizeFlag = descriptor >> 6;
  const singleSegment = (descriptor & 0x20) !== 0;
  if ((descriptor & 0x08) !== 0) throw new ZstdFrameError("reserved bit set in the frame header descriptor");
  const hasChecksum = (descriptor & 0x04) !== 0;
  const dictionaryIdBytes = [0, 1, 2, 4][descriptor & 0x03] ?? 0;
  const contentSizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][contentSizeFlag] ?? 0;
  let pos = 5 + (singleSegment ? 0 : 1) + dictionaryIdBytes + contentSizeBytes;

  // Blocks (§3.1.1.2): a 3-byte header, then Block_Size bytes, or one byte for an RLE block.
  for (;;) {
    if (pos + 3 > bytes.length) throw truncated("a block header");
    const header = (bytes[pos] ?? 0) | ((bytes[pos + 1] ?? 0) << 8) | ((bytes[pos + 2] ?? 0) << 16);
    const last = (header & 1) !== 0;
    const type = (header >> 1) & 3;
    if (type === 3) throw new ZstdFrameError("reserved block type");
    pos += 3 + (type === 1 ? 1 : header >>> 3);
    if (pos > bytes.length) throw truncated("a block");
    if (last) break;
  }
  if (hasChecksum) pos += 4;
  if (pos > bytes.length) throw truncated("the content checksum");
  return pos;
}

function truncated(what: string): ZstdFrameError {
  return new ZstdFrameError(`unexpected end of file in ${what}`);
}

function byte(bytes: Uint8Array, at: number, what: string): number {
  const b = bytes[at];
  if (b === undefined) throw truncated(what);
  return b;
}

function uint32(bytes: Uint8Array, at: number, what: string): number {
  if (at + 4 > bytes.length) throw truncated(what);
  return (
    ((bytes[at] ?? 0) | ((bytes[at + 1] ?? 0) << 8) | ((bytes[at + 2] ?? 0) << 16) | ((bytes[at + 3] ?? 0) << 24)) >>> 0
  );
}
