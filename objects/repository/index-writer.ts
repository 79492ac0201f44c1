/**
 * Index generation as one streaming pipeline (DESIGN.md §7): rows → Packages text → (plain, gzip)
 * → hashes → R2. Memory is bounded by one R2 part per output plus one batch of rows, whatever the
 * size of the dist: the 60,000-package benchmark in bench/ measures it.
 *
 * No `.xz`: workerd has no xz encoder and none in pure JavaScript is maintained on npm; apt
 * takes `.gz` (and the plain file) just as well.
 */
import { type PackageEntry, renderStanza } from "../../deb/packages.ts";
import { type BlobDigest, putStream } from "./blobs.ts";

export interface WrittenIndex {
  plain: BlobDigest;
  gzip: BlobDigest;
}

/** Stanzas are encoded into chunks of about this size before they enter the streams. */
const CHUNK_BYTES = 64 * 1024;

/**
 * Render `entries` as a Packages file and store it, plain and gzipped, at its content addresses.
 * The text is written to both outputs chunk by chunk, each write waiting for its consumer, so
 * neither side buffers ahead of the other (a `tee()` would queue without bound behind gzip).
 */
export async function writePackagesIndex(
  bucket: R2Bucket,
  repositoryId: string,
  entries: AsyncIterable<PackageEntry> | Iterable<PackageEntry>,
): Promise<WrittenIndex> {
  const plain = new TransformStream<Uint8Array, Uint8Array>();
  const gzip = new CompressionStream("gzip");
  const plainStored = putStream(bucket, repositoryId, plain.readable);
  const gzipStored = putStream(bucket, repositoryId, gzip.readable as ReadableStream<Uint8Array>);
  const plainWriter = plain.writable.getWriter();
  const gzipWriter = gzip.writable.getWriter();

  const produce = async () => {
    const encoder = new TextEncoder();
    let text = "";
    const emit = async () => {
      const bytes = encoder.encode(text);
      text = "";
      await Promise.all([plainWriter.ready, gzipWriter.ready]);
      await Promise.all([plainWriter.write(bytes), gzipWriter.write(bytes)]);
    };
    for await (const entry of entries) {
      text += `${renderStanza(entry)}\n`;
      if (text.length >= CHUNK_BYTES) await emit();
    }
    if (text.length > 0) await emit();
    await Promise.all([plainWriter.close(), gzipWriter.close()]);
  };

  try {
    const [, plainDigest, gzipDigest] = await Promise.all([produce(), plainStored, gzipStored]);
    return { plain: plainDigest, gzip: gzipDigest };
  } catch (cause) {
    await Promise.allSettled([plainWriter.abort(cause), gzipWriter.abort(cause)]);
    throw cause;
  }
}
