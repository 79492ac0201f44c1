/** Small text formats the pages share. */

/** "12.3 KiB" for people; the exact byte count goes beside it where it matters. */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/** "2026-12-06 04:59 UTC": one unambiguous form whatever the reader's locale. */
export function when(iso: string | null): string {
  if (iso === null) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** The day alone, "2026-12-06". */
export function day(iso: string | null): string {
  return iso === null ? "—" : iso.slice(0, 10);
}

/** The snapshot ID naming the second an instant falls in (snapshot.debian.org's form, YYYYMMDDTHHMMSSZ). */
export function snapshotId(iso: string): string {
  return `${new Date(iso).toISOString().slice(0, 19).replace(/[-:]/g, "")}Z`;
}

/** The instant a snapshot ID names, as ISO 8601. */
export function snapshotInstant(id: string): string {
  return `${id.slice(0, 4)}-${id.slice(4, 6)}-${id.slice(6, 8)}T${id.slice(9, 11)}:${id.slice(11, 13)}:${id.slice(13, 15)}Z`;
}

/** A fingerprint in groups of four, as gpg prints it. */
export function fingerprint(fpr: string): string {
  return (fpr.match(/.{1,4}/g) ?? [fpr]).join(" ");
}
