/**
 * The Debian formats the repository's web pages read and write (deb/description.ts,
 * deb/relations.ts, deb/paragraph.ts, deb/apt-setup.ts), in both runtimes.
 */
import { describe, it } from "vitest";
import { aptSetup } from "../../deb/apt-setup.ts";
import { parseDescription } from "../../deb/description.ts";
import { renderStanza } from "../../deb/packages.ts";
import { readParagraph } from "../../deb/paragraph.ts";
import { parseRelations, relatedNames } from "../../deb/relations.ts";

describe("parseDescription (Policy §5.6.13)", () => {
  it("splits the synopsis, paragraphs, blank lines and verbatim lines", ({ expect }) => {
    const d = parseDescription(
      "a tool for things\n It does things\n well.\n .\n Second paragraph.\n  $ tool --verbose\n   indented more\n Back to words.",
    );
    expect(d).toEqual({
      synopsis: "a tool for things",
      blocks: [
        { kind: "paragraph", text: "It does things well." },
        { kind: "paragraph", text: "Second paragraph." },
        { kind: "verbatim", lines: [" $ tool --verbose", "  indented more"] },
        { kind: "paragraph", text: "Back to words." },
      ],
    });
  });

  it("keeps markup as text: rendering is the page's business", ({ expect }) => {
    expect(parseDescription("<b>bold</b>\n <script>x</script>")).toEqual({
      synopsis: "<b>bold</b>",
      blocks: [{ kind: "paragraph", text: "<script>x</script>" }],
    });
  });
});

describe("parseRelations (Policy §7.1)", () => {
  it("reads groups, alternatives, qualifiers, constraints and restrictions", ({ expect }) => {
    expect(
      parseRelations("libc6 (>= 2.36), default-mta | mail-transport-agent,\n python3:any (<< 3.13) [amd64]"),
    ).toEqual([
      [{ name: "libc6", rest: " (>= 2.36)" }],
      [
        { name: "default-mta", rest: "" },
        { name: "mail-transport-agent", rest: "" },
      ],
      [{ name: "python3", rest: ":any (<< 3.13) [amd64]" }],
    ]);
  });

  it("keeps what is not a package name as text, and drops nothing", ({ expect }) => {
    expect(parseRelations("<img src=x>, ok, , Bad")).toEqual([
      [{ name: null, rest: "<img src=x>" }],
      [{ name: "ok", rest: "" }],
      [{ name: null, rest: "Bad" }],
    ]);
  });

  it("names every package the relationship fields mention, once", ({ expect }) => {
    expect(
      relatedNames([
        { name: "Package", value: "tool" },
        { name: "Depends", value: "a, b | c" },
        { name: "recommends", value: "a (>= 1)" },
        { name: "Built-Using", value: "src (= 1)" },
        { name: "Description", value: "d, e" },
      ]),
    ).toEqual(["a", "b", "c"]);
  });
});

describe("readParagraph", () => {
  it("reads back the stanza deb/packages.ts renders", ({ expect }) => {
    const fields = [
      { name: "Package", value: "tool" },
      { name: "Version", value: "1.0" },
      { name: "Architecture", value: "amd64" },
      { name: "Description", value: "short\n long line\n .\n more" },
    ];
    const stanza = renderStanza({
      fields,
      filename: "pool/main/t/tool/tool_1.0_amd64.deb",
      size: 10,
      md5: "m",
      sha256: "s",
    });
    expect(readParagraph(stanza)).toEqual([
      { name: "Package", value: "tool" },
      { name: "Architecture", value: "amd64" },
      { name: "Version", value: "1.0" },
      { name: "Filename", value: "pool/main/t/tool/tool_1.0_amd64.deb" },
      { name: "Size", value: "10" },
      { name: "MD5sum", value: "m" },
      { name: "SHA256", value: "s" },
      { name: "Description", value: "short\n long line\n .\n more" },
    ]);
  });
});

describe("aptSetup", () => {
  it("writes the deb822 source with Signed-By, the one-line form, and the keyring download", ({ expect }) => {
    const s = aptSetup({
      id: "acme/tools",
      url: "https://apt.acme.example",
      dist: "stable",
      components: ["main", "contrib"],
      private: false,
    });
    expect(s.sources).toBe(
      [
        "Types: deb",
        "URIs: https://apt.acme.example/",
        "Suites: stable",
        "Components: main contrib",
        "Signed-By: /usr/share/keyrings/acme-tools-archive-keyring.gpg",
      ].join("\n"),
    );
    expect(s.oneLine).toBe(
      "deb [signed-by=/usr/share/keyrings/acme-tools-archive-keyring.gpg] https://apt.acme.example/ stable main contrib",
    );
    expect(s.keyCommands).toEqual([
      "curl -fsSL https://apt.acme.example/archive-keyring.gpg | sudo tee /usr/share/keyrings/acme-tools-archive-keyring.gpg > /dev/null",
    ]);
    expect(s.authCommands).toEqual([]);
  });

  it("pins a snapshot, and reads a private repository's token from the environment", ({ expect }) => {
    const s = aptSetup({
      id: "acme/secret",
      url: "https://armor.example/acme/secret/",
      dist: "stable",
      components: ["main"],
      private: true,
      snapshot: "20261206T050000Z",
    });
    expect(s.sources.split("\n").at(-1)).toBe("Snapshot: 20261206T050000Z");
    expect(s.oneLine).toContain(
      "[signed-by=/usr/share/keyrings/acme-secret-archive-keyring.gpg snapshot=20261206T050000Z]",
    );
    expect(s.keyCommands[0]).toContain('-u "token:${ARMOR_TOKEN:?');
    expect(s.authCommands[0]).toBe("sudo install -m 0600 /dev/null /etc/apt/auth.conf.d/acme-secret.conf");
  });
});
