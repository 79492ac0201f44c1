/**
 * Decompression of a control.tar member as dpkg-deb reads it, with a hard cap on the output, so a
 * decompression bomb is refused with a clear error instead of exhausting a 128 MB isolate.
 *
 * Each format is read the way dpkg-deb 1.21 (Debian bookworm) reads it, which is not always the way
 * its command-line tool does: gzip member after member (gzip.ts), the first zstd frame (zstd.ts), the
 * first xz stream (xz.ts); whatever follows is ignored, as dpkg ignores it. gzip and zstd data is
 * inflated by node:zlib, which workerd provides under `nodejs_compat` and which stops at
 * `maxOutputLength`; xz uses our pure-JS decoder (see xz.ts for why).
 */
import { DebFormatError } from "./errors.ts";
import { GzipError, gunzipLikeDpkg } from "./gzip.ts";
import { XzError, xzDecompress } from "./xz.ts";
import { isOutputLimitError } from "./zlib-cap.ts";
import { zstdFirstFrame } from "./zstd.ts";

export type Compression = "none" | "gzip" | "xz" | "zstd";

const EXTENSIONS: Record<string, Compression> = { "": "none", ".gz": "gzip", ".xz": "xz", ".zst": "zstd" };

/** "control.tar.xz" → "xz"; undefined when the base or the extension is not one dpkg accepts. */
export function compressionOf(member: string, base: "control.tar" | "data.tar"): Compression | undefined {
  if (!member.startsWith(base)) return undefined;
  return EXTENSIONS[member.slice(base.length)];
}

/** Decompress `bytes` as dpkg-deb does, refusing to produce more than `maxOutput` bytes. */
export function decompress(kind: Compression, bytes: Uint8Array, maxOutput: number): Uint8Array {
  const tooLarge = () =>
    new DebFormatError(
      "control_tar_too_large",
      `control.tar expands to more than ${maxOutput} bytes (a decompression bomb, or far more control data than a package needs)`,
    );
  if (kind === "none") {
    if (bytes.length > maxOutput) throw tooLarge();
    return bytes;
  }
  try {
    if (kind === "xz") return xzDecompress(bytes, maxOutput);
    if (kind === "gzip") return gunzipLikeDpkg(bytes, maxOutput);
    return zstdFirstFrame(bytes, maxOutput);
  } catch (cause) {
    if (isOutputLimit(cause)) throw tooLarge();
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new DebFormatError("control_decompression_failed", `control.tar (${kind}) is corrupt: ${detail}`);
  }
}

function isOutputLimit(cause: unknown): boolean {
  if (cause instanceof XzError) return cause.reason === "too_large";
  if (cause instanceof GzipError) return false;
  return isOutputLimitError(cause);
}
