/**
 * A pull reader over a byte stream: exact reads and skips without buffering more than one chunk
 * beyond what the caller asked for. Every byte pulled from the source is shown to `observe` exactly
 * once, in order, which is how hashing rides along with parsing in a single pass.
 */
import { DebFormatError } from "./errors.ts";

/**
 * A ReadableStream is one (in workerd and in Node); returning its iterator early cancels it, so a
 * reader that gives up never leaves a tee'd sibling buffering on its behalf.
 */
export type ByteSource = AsyncIterable<Uint8Array>;

export class ByteReader {
  readonly #iterator: AsyncIterator<Uint8Array>;
  readonly #observe: (chunk: Uint8Array) => void;
  #pending: Uint8Array = new Uint8Array(0);
  #done = false;

  constructor(source: ByteSource, observe: (chunk: Uint8Array) => void = () => {}) {
    this.#iterator = source[Symbol.asyncIterator]();
    this.#observe = observe;
  }

  async #pull(): Promise<boolean> {
    if (this.#done) return false;
    const next = await this.#iterator.next();
    if (next.done) {
      this.#done = true;
      return false;
    }
    this.#observe(next.value);
    this.#pending = this.#pending.length === 0 ? next.value : concat([this.#pending, next.value]);
    return true;
  }

  /** Exactly `n` bytes, or a `truncated` error naming what was being read. */
  async read(n: number, what: string): Promise<Uint8Array> {
    if (this.#pending.length >= n) return this.#take(n);
    const parts: Uint8Array[] = [];
    let have = 0;
    while (have < n) {
      if (this.#pending.length === 0 && !(await this.#pull())) {
        throw new DebFormatError("truncated", `file ends in the middle of ${what}`);
      }
      const part = this.#take(Math.min(n - have, this.#pending.length));
      parts.push(part);
      have += part.length;
    }
    return parts.length === 1 && parts[0] ? parts[0] : concat(parts);
  }

  /** Pass over `n` bytes (still observed, never retained). */
  async skip(n: number, what: string): Promise<void> {
    let left = n;
    while (left > 0) {
      if (this.#pending.length === 0 && !(await this.#pull())) {
        throw new DebFormatError("truncated", `file ends in the middle of ${what}`);
      }
      left -= this.#take(Math.min(left, this.#pending.length)).length;
    }
  }

  /** True when no byte is left. */
  async atEnd(): Promise<boolean> {
    while (this.#pending.length === 0) {
      if (!(await this.#pull())) return true;
    }
    return false;
  }

  /** Stop early: cancels the underlying stream so a tee'd sibling is not left buffering for us. */
  async close(): Promise<void> {
    this.#done = true;
    await this.#iterator.return?.();
  }

  #take(n: number): Uint8Array {
    const out = this.#pending.subarray(0, n);
    this.#pending = this.#pending.subarray(n);
    return out;
  }
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const latin1 = new TextDecoder("latin1");

/** Header fields of ar and tar are ASCII; decoding them as latin1 never throws. */
export function ascii(bytes: Uint8Array): string {
  return latin1.decode(bytes);
}
