import { env } from "cloudflare:workers";
import { createHash } from "node:crypto";
import { describe, it } from "vitest";
import { type BodySource, type FileMeta, serveFile, sliceStream } from "../../worker/serve/file-response.ts";
import { chunkedStream } from "../helpers/bytes.ts";

const URL = "https://armor.invalid/acme/pool/main/h/hello/hello_2.10-3_amd64.deb";
const BYTES = Uint8Array.from({ length: 100 }, (_, i) => (i * 37 + 11) & 0xff);
const SHA256 = createHash("sha256").update(BYTES).digest("hex");
const ETAG = `"${SHA256}"`;
// Milliseconds on purpose: Last-Modified has one-second resolution, and comparisons must agree with it.
const PUBLISHED = new Date("2026-03-14T15:09:26.535Z");
const LAST_MODIFIED = "Sat, 14 Mar 2026 15:09:26 GMT";

const META: FileMeta = {
  sha256: SHA256,
  size: BYTES.length,
  lastModified: PUBLISHED,
  contentType: "application/vnd.debian.binary-package",
  cacheControl: "max-age=31536000, immutable",
  headers: { "x-armor-cache": "hit" },
};

/** What every answer carries (200, 206, 304, 416). */
const COMMON = {
  etag: ETAG,
  "last-modified": LAST_MODIFIED,
  "cache-control": "max-age=31536000, immutable",
  vary: "Authorization",
  "accept-ranges": "bytes",
  "x-armor-cache": "hit",
};
const FULL_HEADERS = { ...COMMON, "content-type": META.contentType, "content-length": "100" };

/** Serves `bytes` from memory in 7-byte chunks (seeking with sliceStream), recording each call. */
function memory(bytes: Uint8Array) {
  const calls: ({ offset: number; length: number } | undefined)[] = [];
  const source: BodySource = async (range) => {
    calls.push(range);
    const stream = chunkedStream(bytes, 7);
    return range ? sliceStream(stream, range.offset, range.length) : stream;
  };
  return { source, calls };
}

async function serve(headers: Record<string, string>, options: { method?: string; meta?: FileMeta } = {}) {
  const meta = options.meta ?? META;
  const { source, calls } = memory(BYTES.subarray(0, meta.size));
  const res = await serveFile(new Request(URL, { method: options.method ?? "GET", headers }), meta, source);
  if (res === null) throw new Error("serveFile returned null for bytes that exist");
  const body = res.body === null ? null : new Uint8Array(await res.arrayBuffer());
  return { status: res.status, headers: Object.fromEntries(res.headers), body, calls };
}

describe("serveFile: GET and HEAD", () => {
  it("answers a plain GET with the whole file and every header", async ({ expect }) => {
    const res = await serve({});
    expect(res.status).toBe(200);
    expect(res.headers).toEqual(FULL_HEADERS);
    expect(res.body).toEqual(BYTES);
    expect(res.calls).toEqual([undefined]);
  });

  it("answers HEAD with GET's headers, the full Content-Length and no body, without reading the bytes", async ({
    expect,
  }) => {
    const res = await serve({}, { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers).toEqual(FULL_HEADERS);
    expect(res.body).toBeNull();
    expect(res.calls).toEqual([]);
  });

  it("ignores Range on HEAD (RFC 9110 §14.2: ranges are defined for GET only)", async ({ expect }) => {
    const res = await serve({ range: "bytes=0-9" }, { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers).toEqual(FULL_HEADERS);
    expect(res.body).toBeNull();
    expect(res.calls).toEqual([]);
  });

  it("lets the protocol headers win over clashing extra headers", async ({ expect }) => {
    const meta = { ...META, headers: { vary: "Accept-Encoding", etag: '"other"', "x-armor-cache": "miss" } };
    const res = await serve({}, { meta });
    expect(res.headers).toEqual({ ...FULL_HEADERS, "x-armor-cache": "miss" });
  });

  it("rejects methods other than GET and HEAD as a routing bug", async ({ expect }) => {
    const { source, calls } = memory(BYTES);
    await expect(serveFile(new Request(URL, { method: "POST" }), META, source)).rejects.toThrow(/GET and HEAD/);
    expect(calls).toEqual([]);
  });

  it("serves a zero-length file", async ({ expect }) => {
    const meta = { ...META, size: 0 };
    const get = await serve({}, { meta });
    expect(get.status).toBe(200);
    expect(get.headers).toEqual({ ...FULL_HEADERS, "content-length": "0" });
    expect(get.body).toEqual(new Uint8Array());
    const head = await serve({}, { meta, method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers).toEqual({ ...FULL_HEADERS, "content-length": "0" });
    expect(head.body).toBeNull();
  });

  it("returns null when the body source finds the bytes gone, for whole files and ranges", async ({ expect }) => {
    const calls: unknown[] = [];
    const gone: BodySource = async (range) => {
      calls.push(range);
      return null;
    };
    expect(await serveFile(new Request(URL), META, gone)).toBeNull();
    expect(await serveFile(new Request(URL, { headers: { range: "bytes=5-" } }), META, gone)).toBeNull();
    expect(calls).toEqual([undefined, { offset: 5, length: 95 }]);
  });

  it("fails the body instead of sending a byte count other than Content-Length", async ({ expect }) => {
    const short: BodySource = async () => chunkedStream(BYTES.subarray(0, 99), 7);
    const res = await serveFile(new Request(URL), META, short);
    expect(res?.headers.get("content-length")).toBe("100");
    await expect(res?.arrayBuffer()).rejects.toThrow();
  });
});

describe("serveFile: Content-Length reaches the wire", () => {
  // workerd keeps a content-length header on the Response object but sends a body stream of unknown
  // length chunked, without it. R2 refuses such streams in the same way, which makes it an in-process
  // witness: R2 accepting res.body proves the runtime knows its length.
  it("R2 refuses a stream of unknown length even with a content-length header (the control)", async ({ expect }) => {
    const res = new Response(chunkedStream(BYTES, 7), { headers: { "content-length": "100" } });
    expect(res.headers.get("content-length")).toBe("100");
    await expect(env.BLOBS.put("test/file-response/control", res.body)).rejects.toThrow(/known length/);
  });

  it.for([
    ["200", {}, BYTES],
    ["206", { range: "bytes=10-29" }, BYTES.subarray(10, 30)],
    ["200 empty", {}, new Uint8Array()],
  ] as const)("gives a %s body whose length the runtime knows", async ([name, headers, expected], { expect }) => {
    const meta = { ...META, size: name === "200 empty" ? 0 : BYTES.length };
    const { source } = memory(BYTES.subarray(0, meta.size));
    const res = await serveFile(new Request(URL, { headers }), meta, source);
    const key = `test/file-response/known-length/${name}`;
    await env.BLOBS.put(key, res?.body ?? null);
    const stored = await env.BLOBS.get(key);
    expect(stored?.size).toBe(expected.length);
    expect(new Uint8Array((await stored?.arrayBuffer()) ?? new ArrayBuffer(1))).toEqual(expected);
  });
});

describe("serveFile: If-None-Match and If-Modified-Since", () => {
  it.for([
    ["the ETag", ETAG],
    ["*", "*"],
    ["a list holding the ETag", `"aaaa", ${ETAG} ,"bbbb"`],
    ["the weak form of the ETag", `W/${ETAG}`],
    ["a list holding the weak form", `W/"aaaa",W/${ETAG}`],
    ["the ETag, with If-Modified-Since saying modified (If-None-Match wins)", ETAG],
  ] as const)("answers 304 when If-None-Match is %s", async ([name, inm], { expect }) => {
    const headers: Record<string, string> = { "if-none-match": inm };
    if (name.includes("If-Modified-Since")) headers["if-modified-since"] = "Sat, 14 Mar 2026 15:09:25 GMT";
    const res = await serve(headers);
    expect(res.status).toBe(304);
    expect(res.headers).toEqual(COMMON);
    expect(res.body).toBeNull();
    expect(res.calls).toEqual([]);
  });

  it.for([
    ["another tag", '"aaaa"'],
    ["a list without the ETag", '"aaaa", W/"bbbb"'],
    ["the SHA-256 unquoted (malformed)", SHA256],
    ["an unterminated tag (malformed)", `"${SHA256}`],
    ["two tags without a comma (malformed)", `"aaaa" ${ETAG}`],
    ["another tag, with If-Modified-Since saying not modified (If-None-Match wins)", '"aaaa"'],
  ] as const)("answers 200 in full when If-None-Match is %s", async ([name, inm], { expect }) => {
    const headers: Record<string, string> = { "if-none-match": inm };
    if (name.includes("If-Modified-Since")) headers["if-modified-since"] = LAST_MODIFIED;
    const res = await serve(headers);
    expect(res.status).toBe(200);
    expect(res.headers).toEqual(FULL_HEADERS);
    expect(res.body).toEqual(BYTES);
  });

  it.for([
    ["equal to Last-Modified", LAST_MODIFIED],
    ["after Last-Modified", "Sun, 15 Mar 2026 00:00:00 GMT"],
    ["equal, in RFC 850 form", "Saturday, 14-Mar-26 15:09:26 GMT"],
    ["equal, in asctime form", "Sat Mar 14 15:09:26 2026"],
    ["later, in asctime form with a space-padded day", "Wed Apr  1 00:00:00 2026"],
  ] as const)("answers 304 when If-Modified-Since is %s", async ([, ims], { expect }) => {
    const res = await serve({ "if-modified-since": ims });
    expect(res.status).toBe(304);
    expect(res.headers).toEqual(COMMON);
    expect(res.body).toBeNull();
    expect(res.calls).toEqual([]);
  });

  it.for([
    ["a second before Last-Modified", "Sat, 14 Mar 2026 15:09:25 GMT"],
    ["a year before, in asctime form with a padded day", "Fri Mar  7 15:09:26 2025"],
    ["not an HTTP-date", "2026-03-15T00:00:00Z"],
    ["an impossible date", "Tue, 31 Feb 2026 00:00:00 GMT"],
    ["two dates", `${LAST_MODIFIED}, ${LAST_MODIFIED}`],
  ] as const)("answers 200 in full when If-Modified-Since is %s", async ([, ims], { expect }) => {
    const res = await serve({ "if-modified-since": ims });
    expect(res.status).toBe(200);
    expect(res.headers).toEqual(FULL_HEADERS);
    expect(res.body).toEqual(BYTES);
  });
});

describe("serveFile: Range", () => {
  it.for([
    ["bytes=0-9", 0, 10],
    ["bytes=10-29", 10, 20],
    ["bytes=0-0", 0, 1],
    ["bytes=99-99", 99, 1],
    ["bytes=95-1000", 95, 5],
    ["bytes=90-", 90, 10],
    ["bytes=0-", 0, 100],
    ["bytes=-5", 95, 5],
    ["bytes=-1000", 0, 100],
    ["BYTES=3-4", 3, 2],
    ["bytes=3-4, ", 3, 2],
  ] as const)("answers %s with 206 and those bytes", async ([range, offset, length], { expect }) => {
    const res = await serve({ range });
    expect(res.status).toBe(206);
    expect(res.headers).toEqual({
      ...FULL_HEADERS,
      "content-length": String(length),
      "content-range": `bytes ${offset}-${offset + length - 1}/100`,
    });
    expect(res.body).toEqual(BYTES.subarray(offset, offset + length));
    expect(res.calls).toEqual([{ offset, length }]);
  });

  it.for(["bytes=100-", "bytes=100-200", "bytes=1000-", "bytes=-0"])(
    "answers %s with 416 and Content-Range: bytes */100, without reading the bytes",
    async (range, { expect }) => {
      const res = await serve({ range });
      expect(res.status).toBe(416);
      expect(res.headers).toEqual({ ...COMMON, "content-range": "bytes */100" });
      expect(res.body).toBeNull();
      expect(res.calls).toEqual([]);
    },
  );

  it.for([
    "bytes=5-2",
    "bytes=abc",
    "bytes=",
    "bytes=-",
    "bytes=1-2-3",
    "bytes=+1-2",
    "bytes 0-5",
    "items=0-5",
    "bytes=0-5,10-15",
    "bytes=0-5,-1",
  ])("answers %s with 200 and the whole file (malformed, or several ranges)", async (range, { expect }) => {
    const res = await serve({ range });
    expect(res.status).toBe(200);
    expect(res.headers).toEqual(FULL_HEADERS);
    expect(res.body).toEqual(BYTES);
    expect(res.calls).toEqual([undefined]);
  });

  it("answers 304 before looking at Range", async ({ expect }) => {
    const res = await serve({ range: "bytes=0-9", "if-none-match": ETAG });
    expect(res.status).toBe(304);
    expect(res.headers).toEqual(COMMON);
  });

  it("ranges over a zero-length file: bytes=0- is unsatisfiable, a suffix is the whole (empty) file", async ({
    expect,
  }) => {
    const meta = { ...META, size: 0 };
    const from = await serve({ range: "bytes=0-" }, { meta });
    expect(from.status).toBe(416);
    expect(from.headers).toEqual({ ...COMMON, "content-range": "bytes */0" });
    expect(from.body).toBeNull();
    const suffix = await serve({ range: "bytes=-5" }, { meta });
    expect(suffix.status).toBe(200);
    expect(suffix.headers).toEqual({ ...FULL_HEADERS, "content-length": "0" });
    expect(suffix.body).toEqual(new Uint8Array());
  });
});

describe("serveFile: If-Range", () => {
  it.for([
    ["the ETag", ETAG],
    ["Last-Modified (as apt sends when resuming)", LAST_MODIFIED],
  ] as const)("honours Range when If-Range is %s", async ([, ifRange], { expect }) => {
    const res = await serve({ range: "bytes=40-", "if-range": ifRange });
    expect(res.status).toBe(206);
    expect(res.headers).toEqual({ ...FULL_HEADERS, "content-length": "60", "content-range": "bytes 40-99/100" });
    expect(res.body).toEqual(BYTES.subarray(40));
  });

  it.for([
    ["another tag", '"aaaa"'],
    ["the weak form of the ETag (If-Range compares strongly)", `W/${ETAG}`],
    ["a second after Last-Modified", "Sat, 14 Mar 2026 15:09:27 GMT"],
    ["a second before Last-Modified", "Sat, 14 Mar 2026 15:09:25 GMT"],
    ["not a validator", "yesterday"],
  ] as const)("answers 200 in full when If-Range is %s", async ([, ifRange], { expect }) => {
    const res = await serve({ range: "bytes=40-", "if-range": ifRange });
    expect(res.status).toBe(200);
    expect(res.headers).toEqual(FULL_HEADERS);
    expect(res.body).toEqual(BYTES);
    expect(res.calls).toEqual([undefined]);
  });

  it("answers a failed If-Range with 200 even when the range is unsatisfiable", async ({ expect }) => {
    const res = await serve({ range: "bytes=500-", "if-range": '"aaaa"' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(BYTES);
  });
});

/** A source of 100 bytes in 7-byte chunks that records pulls and cancellation. */
function recordingSource() {
  const log = { pulls: 0, cancelled: false, reason: undefined as unknown };
  let at = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        log.pulls++;
        if (at >= BYTES.length) {
          controller.close();
          return;
        }
        controller.enqueue(BYTES.slice(at, at + 7));
        at += 7;
      },
      cancel(reason) {
        log.cancelled = true;
        log.reason = reason;
      },
    },
    // Pulled only on demand, so `pulls` counts exactly the chunks sliceStream asked for.
    { highWaterMark: 0 },
  );
  return { stream, log };
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

describe("sliceStream", () => {
  it.for([
    ["the first chunk exactly", 0, 7],
    ["inside one chunk", 3, 2],
    ["across chunk boundaries", 5, 20],
    ["aligned to chunk boundaries", 7, 14],
    ["up to the last byte but one", 0, 99],
    ["the tail", 95, 5],
    ["the whole stream", 0, 100],
  ] as const)("slices %s and cancels the source once done", async ([, offset, length], { expect }) => {
    const { stream, log } = recordingSource();
    expect(await readAll(sliceStream(stream, offset, length))).toEqual(BYTES.subarray(offset, offset + length));
    // Not a chunk more than the slice needs is read, and the source learns it is no longer wanted.
    expect(log.pulls).toBe(Math.ceil((offset + length) / 7));
    expect(log.cancelled).toBe(true);
  });

  it("gives an empty slice without reading, and cancels the source", async ({ expect }) => {
    const { stream, log } = recordingSource();
    expect(await readAll(sliceStream(stream, 10, 0))).toEqual(new Uint8Array());
    expect(log.pulls).toBe(0);
    expect(log.cancelled).toBe(true);
  });

  it("reads one source chunk per slice chunk, so nothing is buffered ahead", async ({ expect }) => {
    const { stream, log } = recordingSource();
    const reader = sliceStream(stream, 5, 20).getReader();
    const seen: number[][] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      seen.push([value.length, log.pulls]);
    }
    // Bytes 5..24 lie in chunks [0,7), [7,14), [14,21), [21,28): pieces of 2, 7, 7 and 4 bytes.
    expect(seen).toEqual([
      [2, 1],
      [7, 2],
      [7, 3],
      [4, 4],
    ]);
  });

  it("errors when the source ends before the slice does", async ({ expect }) => {
    await expect(readAll(sliceStream(chunkedStream(BYTES, 7), 90, 20))).rejects.toThrow(/before the slice end 110/);
  });

  it("passes a consumer's cancel on to the source", async ({ expect }) => {
    const { stream, log } = recordingSource();
    const reader = sliceStream(stream, 0, 50).getReader();
    await reader.read();
    await reader.cancel("client went away");
    expect(log.cancelled).toBe(true);
    expect(log.reason).toBe("client went away");
  });

  it("skips empty chunks", async ({ expect }) => {
    const chunks = [new Uint8Array(), BYTES.slice(0, 4), new Uint8Array(), BYTES.slice(4, 10)];
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next === undefined) controller.close();
        else controller.enqueue(next);
      },
    });
    expect(await readAll(sliceStream(stream, 2, 6))).toEqual(BYTES.subarray(2, 8));
  });

  it("rejects a negative or fractional slice as a bug", ({ expect }) => {
    expect(() => sliceStream(chunkedStream(BYTES, 7), -1, 5)).toThrow(RangeError);
    expect(() => sliceStream(chunkedStream(BYTES, 7), 0, 1.5)).toThrow(RangeError);
  });
});
