/** Expected failures are values (STYLE.md): every layer returns this shape instead of throwing. */
export type Result<T, E> = { ok: true; value: T } | { ok: false; error: E };

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}
