/**
 * The HTTP semantics apt relies on for every file Armor serves (RFC 9110; DESIGN.md §5): GET and
 * HEAD, a strong ETag (the SHA-256), conditional requests (§13) and single byte ranges (§14).
 * apt revalidates indexes with If-Modified-Since and resumes partial downloads with `Range:
 * bytes=N-` plus an If-Range date, so a wrong answer here turns into a hash mismatch on a client.
 *
 * No bindings: the bytes come from a BodySource, so R2, the Cache API and memory share this code.
 */

export interface FileMeta {
  /** SHA-256 hex of the bytes; the ETag is `"<sha256>"` (strong). */
  sha256: string;
  size: number;
  /** When these bytes were first published; Last-Modified. */
  lastModified: Date;
  contentType: string;
  cacheControl: string;
  /** Extra headers to add to every answer (e.g. x-armor-cache). The protocol headers win a clash. */
  headers?: Record<string, string>;
}

/**
 * Gives the body for the whole file (range undefined) or for bytes [offset, offset+length).
 * Returns null if the bytes vanished; serveFile then returns null and the caller answers itself.
 */
export type BodySource = (range?: { offset: number; length: number }) => Promise<ReadableStream<Uint8Array> | null>;

type RangeChoice = { kind: "full" } | { kind: "partial"; offset: number; length: number } | { kind: "unsatisfiable" };

const FULL: RangeChoice = { kind: "full" };

/**
 * Answer `request` (GET or HEAD; other methods are the router's business) for the file described
 * by `meta`. Never calls `body()` for HEAD, 304 or 416. Returns null if `body()` did.
 *
 * Evaluation follows RFC 9110 §13.2.2: If-None-Match (or, without it, If-Modified-Since), then
 * Range guarded by If-Range. If-Match and If-Unmodified-Since (§13.1.1, §13.1.4: answered with
 * 412) are not evaluated yet: apt and HTTP caches never send them on GET, and the router expects
 * only 200, 206, 304 and 416 from here.
 */
export async function serveFile(request: Request, meta: FileMeta, body: BodySource): Promise<Response | null> {
  const method = request.method;
  if (method !== "GET" && method !== "HEAD") {
    throw new Error(`serveFile answers GET and HEAD, not ${method}; the router must not send it here`);
  }
  const headers = commonHeaders(meta);

  // §15.4.5: a 304 carries the validators and caching fields a 200 would, and no body.
  if (isNotModified(request.headers, meta)) return new Response(null, { status: 304, headers });

  // §14.2: GET is the only method range handling is defined for, so HEAD describes the whole file.
  const range = method === "GET" ? chooseRange(request.headers, meta) : FULL;
  if (range.kind === "unsatisfiable") {
    headers.set("content-range", `bytes */${meta.size}`);
    return new Response(null, { status: 416, headers });
  }

  headers.set("content-type", meta.contentType);
  if (range.kind === "partial") {
    const { offset, length } = range;
    headers.set("content-range", `bytes ${offset}-${offset + length - 1}/${meta.size}`);
    headers.set("content-length", String(length));
    const stream = await body({ offset, length });
    return stream && new Response(withKnownLength(stream, length), { status: 206, headers });
  }

  headers.set("content-length", String(meta.size));
  if (method === "HEAD") return new Response(null, { status: 200, headers });
  const stream = await body();
  return stream && new Response(withKnownLength(stream, meta.size), { status: 200, headers });
}

/**
 * Slice a stream to [offset, offset+length) without buffering more than one chunk, for sources
 * that cannot seek (a cached full response). Cancels the source once the slice is complete, and
 * errors if the source ends before it.
 */
export function sliceStream(
  stream: ReadableStream<Uint8Array>,
  offset: number,
  length: number,
): ReadableStream<Uint8Array> {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new RangeError(`cannot slice [${offset}, +${length}) from a stream`);
  }
  const reader = stream.getReader();
  const end = offset + length;
  let position = 0; // source bytes read so far
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        // Each pull enqueues at most one chunk; the loop only skips what lies before the slice.
        while (length > 0 && position < end) {
          const { done, value } = await reader.read();
          if (done) {
            controller.error(new Error(`source ended at byte ${position}, before the slice end ${end}`));
            return;
          }
          const start = position;
          position += value.byteLength;
          if (position <= offset) continue;
          controller.enqueue(value.subarray(Math.max(offset - start, 0), Math.min(end - start, value.byteLength)));
          if (position < end) return;
        }
        controller.close();
        await reader.cancel();
      },
      async cancel(reason) {
        await reader.cancel(reason);
      },
    },
    // Pull only when the consumer reads, so at most one source chunk is held at a time.
    { highWaterMark: 0 },
  );
}

function etagOf(meta: FileMeta): string {
  return `"${meta.sha256}"`;
}

/** Last-Modified has one-second resolution (§5.6.7), so comparisons use the truncated time. */
function wholeSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000) * 1000;
}

/** Headers every answer carries (200, 206, 304, 416). */
function commonHeaders(meta: FileMeta): Headers {
  const headers = new Headers(meta.headers);
  headers.set("etag", etagOf(meta));
  headers.set("last-modified", new Date(wholeSeconds(meta.lastModified)).toUTCString());
  headers.set("cache-control", meta.cacheControl);
  // DESIGN.md §5: private repositories answer per credential, so every response varies on it.
  headers.set("vary", "Authorization");
  headers.set("accept-ranges", "bytes");
  return headers;
}

/** RFC 9110 §13.1.2–§13.1.3 for GET and HEAD: If-None-Match, else If-Modified-Since. */
function isNotModified(requestHeaders: Headers, meta: FileMeta): boolean {
  const noneMatch = requestHeaders.get("if-none-match");
  if (noneMatch !== null) {
    if (noneMatch.trim() === "*") return true;
    // Weak comparison (§8.8.3.2): W/ is ignored. A malformed list matches nothing, so a full answer follows.
    return parseEntityTags(noneMatch)?.includes(meta.sha256) ?? false;
  }
  const modifiedSince = requestHeaders.get("if-modified-since");
  if (modifiedSince === null) return false;
  // §13.1.3: an invalid date (or a list of them, which never parses) is ignored.
  const since = parseHttpDate(modifiedSince);
  return since !== null && wholeSeconds(meta.lastModified) <= since;
}

/**
 * The Range to honour (§14.2). Malformed headers are ignored (a 200 is always correct). Several
 * ranges are answered with the whole file and 200, as §14.2 lets a server ignore Range: apt never
 * asks for more than one, and multipart/byteranges would buy nothing.
 */
function chooseRange(requestHeaders: Headers, meta: FileMeta): RangeChoice {
  const header = requestHeaders.get("range");
  if (header === null) return FULL;
  const ifRange = requestHeaders.get("if-range");
  if (ifRange !== null && !ifRangeHolds(ifRange, meta)) return FULL;
  const specs = parseByteRanges(header);
  const spec = specs?.length === 1 ? specs[0] : undefined;
  if (spec === undefined) return FULL;

  const size = meta.size;
  if ("suffix" in spec) {
    // §14.1.1: a suffix range is satisfiable when its length is non-zero; a longer one means the whole file.
    if (spec.suffix === 0) return { kind: "unsatisfiable" };
    // An empty file's whole content cannot be written as a Content-Range (`bytes 0--1/0`), so answer 200.
    if (size === 0) return FULL;
    const length = Math.min(spec.suffix, size);
    return { kind: "partial", offset: size - length, length };
  }
  if (spec.first >= size) return { kind: "unsatisfiable" };
  const last = Math.min(spec.last ?? size - 1, size - 1);
  return { kind: "partial", offset: spec.first, length: last - spec.first + 1 };
}

/**
 * §13.1.5: an entity tag must match by strong comparison (a weak tag never does); a date must equal
 * Last-Modified exactly. Armor treats its Last-Modified as strong: pool and by-hash files never
 * change, and index files are replaced by a whole new publish; should two publishes of one suite
 * land in the same second, apt's hash check catches the spliced file and it fetches it again.
 */
function ifRangeHolds(value: string, meta: FileMeta): boolean {
  const v = value.trim();
  if (v.startsWith('"') || v.startsWith("W/")) return v === etagOf(meta);
  const date = parseHttpDate(v);
  return date !== null && date === wholeSeconds(meta.lastModified);
}

type ByteRangeSpec = { first: number; last: number | undefined } | { suffix: number };

/** `bytes=` range-set (§14.1.2); null when malformed or when a range-spec is invalid (last < first). */
function parseByteRanges(value: string): ByteRangeSpec[] | null {
  const eq = value.indexOf("=");
  // Range units are case-insensitive (§14.1).
  if (eq < 0 || value.slice(0, eq).trim().toLowerCase() !== "bytes") return null;
  const specs: ByteRangeSpec[] = [];
  // §5.6.1: list recipients accept empty elements, so "bytes=0-1," is one range.
  for (const element of value.slice(eq + 1).split(",")) {
    const item = element.trim();
    if (item === "") continue;
    const m = /^(\d*)-(\d*)$/.exec(item);
    const first = m?.[1] ?? "";
    const last = m?.[2] ?? "";
    if (m === null || (first === "" && last === "")) return null;
    if (first === "") {
      specs.push({ suffix: Number(last) });
      continue;
    }
    // Digit strings past 2^53 lose precision but keep their order against any real size.
    const spec = { first: Number(first), last: last === "" ? undefined : Number(last) };
    if (spec.last !== undefined && spec.last < spec.first) return null;
    specs.push(spec);
  }
  return specs.length > 0 ? specs : null;
}

/** Opaque tags of an entity-tag list (§8.8.3), `W/` dropped; null when malformed. */
function parseEntityTags(value: string): string[] | null {
  const tags: string[] = [];
  let at = 0;
  const skipSpace = () => {
    while (value[at] === " " || value[at] === "\t") at++;
  };
  while (at < value.length) {
    skipSpace();
    if (value[at] === ",") {
      at++;
      continue;
    }
    if (at >= value.length) break;
    if (value.startsWith("W/", at)) at += 2;
    if (value[at] !== '"') return null;
    const close = value.indexOf('"', at + 1);
    if (close < 0) return null;
    tags.push(value.slice(at + 1, close));
    at = close + 1;
    skipSpace();
    if (at < value.length && value[at] !== ",") return null;
  }
  return tags;
}

const MONTH = "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)";
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const TIME = "(\\d{2}):(\\d{2}):(\\d{2})";
const IMF_FIXDATE = new RegExp(`^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`);
const RFC850_DATE = new RegExp(
  `^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`,
);
const ASCTIME_DATE = new RegExp(`^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ${MONTH} ([ \\d]\\d) ${TIME} (\\d{4})$`);

/**
 * An HTTP-date (§5.6.7) as epoch milliseconds, or null. Recipients must accept all three formats;
 * Date.parse is not used because it also accepts strings that are no HTTP-date at all.
 */
function parseHttpDate(value: string): number | null {
  const fields = httpDateFields(value);
  if (fields === null) return null;
  const { year, month, day, hour, minute, second } = fields;
  const t = Date.UTC(year, month, day, hour, minute, second);
  // Date.UTC rolls 31 Feb over into March; a valid date survives the round trip unchanged.
  const d = new Date(t);
  const valid =
    d.getUTCFullYear() === year &&
    d.getUTCMonth() === month &&
    d.getUTCDate() === day &&
    d.getUTCHours() === hour &&
    d.getUTCMinutes() === minute &&
    d.getUTCSeconds() === second;
  return valid ? t : null;
}

function httpDateFields(value: string) {
  const fields = (day?: string, month?: string, year?: number, hour?: string, minute?: string, second?: string) => ({
    year: year ?? Number.NaN,
    month: MONTHS.indexOf(month ?? ""),
    day: Number(day),
    hour: Number(hour),
    minute: Number(minute),
    second: Number(second),
  });
  const imf = IMF_FIXDATE.exec(value);
  if (imf) return fields(imf[1], imf[2], Number(imf[3]), imf[4], imf[5], imf[6]);
  const rfc850 = RFC850_DATE.exec(value);
  if (rfc850) {
    // §5.6.7: a two-digit year more than 50 years in the future is the most recent such year past.
    const thisYear = new Date().getUTCFullYear();
    let year = Math.floor(thisYear / 100) * 100 + Number(rfc850[3]);
    if (year > thisYear + 50) year -= 100;
    return fields(rfc850[1], rfc850[2], year, rfc850[4], rfc850[5], rfc850[6]);
  }
  const asctime = ASCTIME_DATE.exec(value);
  if (asctime) return fields(asctime[2], asctime[1], Number(asctime[6]), asctime[3], asctime[4], asctime[5]);
  return null;
}

/**
 * workerd sends `new Response(stream, { headers: { "content-length": n } })` with chunked encoding
 * and drops Content-Length, because it cannot know a JavaScript stream's length; the readable half
 * of a FixedLengthStream carries the length to the runtime, which then sends Content-Length (and
 * fails the response rather than send a byte count other than the one promised).
 */
function withKnownLength(stream: ReadableStream<Uint8Array>, length: number): ReadableStream<Uint8Array> {
  return stream.pipeThrough(new FixedLengthStream(length));
}
