/**
 * Output caps for node:zlib's one-shot functions that mean the same in workerd and in Node.
 *
 * Node stops at exactly `maxOutputLength`. workerd grows its output buffer 40960 bytes at a time up
 * to `maxOutputLength`, and when an output fills the buffer exactly it reserves one more step before
 * it knows the data has ended, so an output a little under the limit can be refused as over it.
 * Asking for 64 KiB more than the cap and checking the length ourselves gives both runtimes the
 * same boundary, for at most 64 KiB more memory.
 */

const SLACK = 64 * 1024;

/** The `maxOutputLength` to give node:zlib for an output of at most `cap` bytes. */
export function zlibOutputLimit(cap: number): number {
  return cap + SLACK;
}

/** Throw node:zlib's kind of limit error when `output` is over `cap`. */
export function checkOutputCap(output: Uint8Array, cap: number): Uint8Array {
  if (output.byteLength > cap) throw new RangeError(`output exceeds ${cap} bytes`);
  return new Uint8Array(output.buffer, output.byteOffset, output.byteLength);
}

/** node:zlib's "output over maxOutputLength": RangeError in workerd, ERR_BUFFER_TOO_LARGE in Node. */
export function isOutputLimitError(cause: unknown): boolean {
  return cause instanceof RangeError || (cause as { code?: unknown } | null)?.code === "ERR_BUFFER_TOO_LARGE";
}
