import { describe, it } from "vitest";
import {
  formatIndexDocument,
  parseIndexDocument,
  SignedIndexDocumentSchema,
  type UnsignedIndexDocument,
  UnsignedIndexDocumentSchema,
} from "../../schema/index-document.ts";

const unsigned: UnsignedIndexDocument = {
  format: "armor-index/1",
  repository: "acme/tools",
  dist: "stable",
  release: "01JD0000000000000000000000",
  generation: 42,
  generated_at: "2026-11-22T01:02:03Z",
  // Quotes, backslashes, triple quotes, tabs and trailing spaces must all survive byte for byte.
  release_text: "Origin: Armor\nDescription: it's '''odd''' \\ \"q\"\t \n MD5Sum:\n",
};
const signed = {
  ...unsigned,
  inrelease: "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n...",
  release_gpg: "-----BEGIN PGP SIGNATURE-----\n\n...",
  fingerprint: "0123 4567 89ab cdef 0123  4567 89AB CDEF 0123 4567",
};

function code(text: string, schema = UnsignedIndexDocumentSchema): string {
  const r = parseIndexDocument(text, schema);
  return r.ok ? "accepted" : `${r.error.code}: ${r.error.message}`;
}

describe("index documents", () => {
  it("round-trip exactly, Release text included", ({ expect }) => {
    const text = formatIndexDocument(unsigned);
    expect(text.startsWith("# Armor index document (unsigned")).toBe(true);
    expect(parseIndexDocument(text, UnsignedIndexDocumentSchema)).toEqual({ ok: true, value: unsigned });
  });

  it("normalize the fingerprint of a signed document", ({ expect }) => {
    const r = parseIndexDocument(formatIndexDocument(signed), SignedIndexDocumentSchema);
    expect(r.ok && r.value.fingerprint).toBe("0123456789ABCDEF0123456789ABCDEF01234567");
    expect(r.ok && r.value.release_text).toBe(unsigned.release_text);
  });

  it("refuse what is not TOML", ({ expect }) => {
    expect(code("release_text = '''unterminated")).toMatch(/^malformed_document: the document is not valid TOML/);
  });

  it.for([
    ["format", "armor-index/2", "format"],
    ["repository", "Acme/Tools", "repository"],
    ["repository", "acme", "repository"],
    ["dist", "../stable", "dist"],
    ["generation", -1, "generation"],
    ["generation", 1.5, "generation"],
    ["generated_at", "yesterday", "generated_at"],
    ["release_text", "", "release_text"],
  ] as const)("refuse a bad %s (%j) and name the field", ([field, value, where], { expect }) => {
    const text = formatIndexDocument({ ...unsigned, [field]: value } as UnsignedIndexDocument);
    expect(code(text)).toMatch(new RegExp(`^malformed_document: .*\\(${where}: `));
  });

  it("refuse a signed document without real signature blocks or with a short fingerprint", ({ expect }) => {
    const bad = (patch: object) =>
      code(formatIndexDocument({ ...signed, ...patch } as UnsignedIndexDocument), SignedIndexDocumentSchema);
    expect(bad({ inrelease: "Origin: Armor" })).toMatch(/inrelease: must be a clearsigned message/);
    expect(bad({ release_gpg: "sig" })).toMatch(/release_gpg: must be an armored detached signature/);
    expect(bad({ fingerprint: "ABCD" })).toMatch(/fingerprint: must be a 40- or 64-digit hex fingerprint/);
    expect(code(formatIndexDocument(unsigned), SignedIndexDocumentSchema)).toMatch(/inrelease/);
  });
});
