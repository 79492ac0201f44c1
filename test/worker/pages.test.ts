/**
 * The repository's web pages (worker/pages/) as HTTP answers: status, content type, caching and
 * security headers, what they say, that package text is escaped, that private repositories ask
 * for credentials, and that apt's paths answer exactly as before whatever `Accept` says. (What a
 * browser makes of them is test/e2e/pages.test.ts, with Chromium.)
 */
import { beforeAll, describe, it } from "vitest";
import { aptSetup } from "../../deb/apt-setup.ts";
import { buildDeb } from "../../deb/deb-writer.ts";
import { hashBytes } from "../../deb/hash.ts";
import { call, createRepo, makeDeb, publish, push, type TestDeb, uniqueRepo } from "../helpers/armor.ts";

const HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
const HOSTILE = '<script>alert("owned")</script><img src=x onerror=alert(1)> & "quotes"';

/** A browser's request (anonymous unless `auth` is given). */
function browse(path: string, init: { auth?: string | null; host?: string; headers?: Record<string, string> } = {}) {
  return call(path, {
    auth: init.auth ?? null,
    ...(init.host === undefined ? {} : { host: init.host }),
    headers: { accept: HTML, ...init.headers },
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let repo: string;
let tool: TestDeb;
let hostile: TestDeb;

beforeAll(async () => {
  repo = uniqueRepo("pages");
  await createRepo(repo, { hostnames: [`${repo.split("/")[1]}.pages.example`] });
  tool = makeDeb("tool", "1.2-1", "amd64", { Depends: "libtool-data (>= 1.0), missing-lib | other-missing" });
  hostile = hostileDeb();
  await push(repo, "stable", "main", [tool, makeDeb("libtool-data", "1.0", "all"), makeDeb("tool", "1.1-1", "amd64")]);
  await push(repo, "testing", "main", [makeDeb("tool", "2.0~rc1", "amd64")]);
  await push(repo, "stable", "contrib", [hostile]);
  await publish(repo, ["stable", "testing"]);
});

describe("the repository page", () => {
  it("answers a browser at the root with HTML, cached at the edge and revalidated by its hash", async ({ expect }) => {
    const res = await browse(`/${repo}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("public, max-age=60");
    expect(res.headers.get("vary")).toBe("Accept, Authorization");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]+=*';/);
    expect(csp).not.toContain("script-src");
    const etag = res.headers.get("etag");
    expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
    const body = await res.text();
    expect(body.startsWith('<!DOCTYPE html><html lang="en">')).toBe(true);
    expect(body).toContain('<meta name="viewport" content="width=device-width, initial-scale=1"/>');
    expect(body).toContain("prefers-color-scheme:dark");
    expect(body).not.toMatch(/<script/i);
    expect(Number(res.headers.get("content-length"))).toBe(new TextEncoder().encode(body).length);

    // The second time, nothing is asked of the object; the same page, so the same ETag.
    const again = await browse(`/${repo}/`);
    expect(again.headers.get("x-armor-cache")).toBe("hit");
    expect(again.headers.get("etag")).toBe(etag);
    await again.body?.cancel();
    const revalidated = await browse(`/${repo}/`, { headers: { "if-none-match": etag ?? "" } });
    expect(revalidated.status).toBe(304);
    expect(await revalidated.text()).toBe("");
    const head = await call(`/${repo}/`, { method: "HEAD", auth: null, headers: { accept: HTML } });
    expect(head.status).toBe(200);
    expect(head.headers.get("etag")).toBe(etag);
    expect(await head.text()).toBe("");
  });

  it("shows the setup `armor repo setup` prints, the dists, the packages and the key", async ({ expect }) => {
    const body = await (await browse(`/${repo}/`)).text();
    const setup = aptSetup({
      id: repo,
      url: `http://${repo.split("/")[1]}.pages.example/`,
      dist: "stable",
      components: ["contrib", "main"],
      private: false,
    });
    expect(body).toContain(escaped(setup.keyCommands.join("\n")));
    expect(body).toContain(escaped(setup.sourcesCommands.join("\n")));
    expect(body).toContain(escaped(setup.oneLineCommands.join("\n")));
    expect(body).toContain("Signed-By: /usr/share/keyrings/");
    // Newest version across dists, by dpkg's order: 2.0~rc1 (testing) above 1.2-1 (stable).
    expect(body).toMatch(new RegExp(`<a href="/${repo}/-/packages/tool">tool</a></th><td><code>2.0~rc1</code>`));
    expect(body).toContain(`<a href="/${repo}/-/packages/libtool-data">libtool-data</a>`);
    expect(body).toContain("C409 21A4 DC13 9A6C 66D1  D6CE F9FE 9401 91D9 6B5C".replace("  ", " "));
    expect(body).toContain("No known problem with apt.");
    expect(body).toContain(`href="/${repo}/?dist=testing#setup"`);
    // The hostile package's synopsis is the package's text, escaped.
    expect(body).not.toContain("<script>");
  });

  it("finds packages by name with a GET form, and refuses what cannot be a name without asking", async ({ expect }) => {
    const found = await (await browse(`/${repo}/?q=TOOL`)).text();
    expect(found).toContain('<form class="search" role="search" method="get"');
    expect(found).toContain('value="tool"');
    expect(found).toContain(`/-/packages/tool"`);
    expect(found).toContain(`/-/packages/libtool-data"`);
    expect(found).not.toContain(`/-/packages/evil"`);
    const none = await (await browse(`/${repo}/?q=nothing-like-it`)).text();
    expect(none).toContain("No package name contains “nothing-like-it”.");
    const odd = await browse(`/${repo}/?q=${encodeURIComponent(HOSTILE)}`);
    expect(odd.status).toBe(200);
    const text = await odd.text();
    expect(text).toContain("Package names hold only lowercase letters");
    expect(text).toContain('value="&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt;');
    expect(text).not.toContain("<script>");
  });

  it("pages through a long listing", async ({ expect }) => {
    const many = uniqueRepo("many");
    await createRepo(many);
    const names = Array.from({ length: 55 }, (_, i) => `pkg-${String(i).padStart(2, "0")}`);
    await push(
      many,
      "stable",
      "main",
      names.map((n) => makeDeb(n, "1.0", "all")),
    );
    await publish(many, ["stable"]);
    const first = await (await browse(`/${many}/`)).text();
    expect(first).toContain('/-/packages/pkg-49"');
    expect(first).not.toContain('/-/packages/pkg-50"');
    expect(first).toContain(`href="/${many}/?after=pkg-49#packages" rel="next"`);
    const second = await (await browse(`/${many}/?after=pkg-49`)).text();
    expect(second).toContain('/-/packages/pkg-50"');
    expect(second).toContain('/-/packages/pkg-54"');
    expect(second).not.toContain('/-/packages/pkg-49"');
    expect(second).not.toContain('rel="next"');
  });

  it("is the same page at the repository's own hostname, with links from its root", async ({ expect }) => {
    const host = `${repo.split("/")[1]}.pages.example`;
    const res = await browse("/", { host });
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body).toContain('<a href="/-/packages/tool">tool</a>');
    expect(body).toContain('<a href="/-/history"');
  });

  it("sends the root without its slash to the root", async ({ expect }) => {
    const res = await call(`/${repo}?q=tool`, { auth: null, redirect: "manual", headers: { accept: HTML } });
    expect(res.status).toBe(301);
    expect(res.headers.get("location")).toBe(`/${repo}/?q=tool`);
  });
});

describe("a package's page", () => {
  it("lists every version per dist with its file, install command and linked Depends", async ({ expect }) => {
    const res = await browse(`/${repo}/-/packages/tool`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const body = await res.text();
    expect(body).toContain("<h1>tool</h1>");
    for (const v of ["2.0~rc1", "1.2-1", "1.1-1"]) expect(body).toContain(`sudo apt-get install tool=${v}`);
    expect(body.indexOf("tool=2.0~rc1")).toBeLessThan(body.indexOf("tool=1.2-1"));
    expect(body).toContain(tool.sha256);
    expect(body).toContain(`${tool.size.toLocaleString("en-US")} bytes`);
    expect(body).toContain(
      `<a href="/${repo}/pool/main/t/tool/tool_1.2-1_amd64.deb" download="">tool_1.2-1_amd64.deb</a>`,
    );
    expect(body).toContain(
      `<a href="/${repo}/-/packages/libtool-data">libtool-data</a> (&gt;= 1.0), missing-lib | other-missing`,
    );
    expect(body).toContain("stable (main)");
    expect(body).toContain("testing (main)");

    // The download link serves the package's very bytes.
    const deb = await call(`/${repo}/pool/main/t/tool/tool_1.2-1_amd64.deb`, { auth: null, headers: { accept: HTML } });
    expect(deb.status).toBe(200);
    expect(new Uint8Array(await deb.arrayBuffer())).toEqual(tool.bytes);
  });

  it("shows a hostile package's control fields as text", async ({ expect }) => {
    const body = await (await browse(`/${repo}/-/packages/evil`)).text();
    expect(body).not.toMatch(/<script|<img|onerror=alert\(1\)>/i);
    expect(body).toContain(
      "Mallory &lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quotes&quot;",
    );
    // A javascript: Homepage stays text; a Depends of the repository's own package is a link.
    expect(body).not.toContain('href="javascript:');
    expect(body).toContain("javascript:alert(1)");
    expect(body).toContain(`<a href="/${repo}/-/packages/tool">tool</a> (&gt;= 1.0)`);
  });

  it("answers a name the repository lacks, and other paths below -/, with an HTML 404", async ({ expect }) => {
    for (const path of ["-/packages/nothing-here", "-/packages/Bad%2FName", "-/nope", "-"]) {
      const res = await call(`/${repo}/${path}`, { auth: null });
      expect(res.status, path).toBe(404);
      expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(res.headers.get("cache-control")).toBe("no-store");
      await res.body?.cancel();
    }
  });
});

describe("history", () => {
  it("lists releases and activations, each linked to its snapshot, which is a page too", async ({ expect }) => {
    const repo2 = uniqueRepo("history");
    await createRepo(repo2);
    await push(repo2, "stable", "main", [makeDeb("one", "1.0", "all")]);
    await publish(repo2, ["stable"]);
    await sleep(1100);
    await push(repo2, "stable", "main", [makeDeb("two", "1.0", "all")]);
    await publish(repo2, ["stable"]);
    const activations = (await (await call(`/api/v1/repositories/${repo2}/activations`)).json()) as {
      activations: { release: string; visible_at: string }[];
    };
    const [second, first] = activations.activations;
    if (first === undefined || second === undefined) throw new Error("expected two activations");
    const id = (iso: string) => `${iso.slice(0, 19).replace(/[-:]/g, "")}Z`;

    const res = await browse(`/${repo2}/-/history`);
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body).toContain(`<a href="/${repo2}/${id(first.visible_at)}/">${id(first.visible_at)}/</a>`);
    expect(body).toContain(`<code>Snapshot: ${id(second.visible_at)}</code>`);
    expect(body).toContain("<strong>active (served now)</strong>");

    // The first snapshot, as a page: the repository as it was, one package, pinned setup.
    const then = await (await browse(`/${repo2}/${id(first.visible_at)}/`)).text();
    expect(then).toContain(`release ${first.release}`);
    expect(then).toContain(`/${repo2}/${id(first.visible_at)}/-/packages/one"`);
    expect(then).not.toContain('/-/packages/two"');
    expect(then).toContain(`Snapshot: ${id(first.visible_at)}`);
    // apt's view of the same snapshot is unchanged.
    const release = await call(`/${repo2}/${id(first.visible_at)}/dists/stable/Release`, { auth: null });
    expect(release.status).toBe(200);
    expect(release.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    await release.body?.cancel();
  });
});

describe("a private repository", () => {
  it("asks for the credentials apt uses, and shows the page to a viewer", async ({ expect }) => {
    const secret = uniqueRepo("private");
    await createRepo(secret, { visibility: "private" });
    await push(secret, "stable", "main", [makeDeb("secret-tool", "1.0", "amd64")]);
    await publish(secret, ["stable"]);
    for (const path of ["/", "/-/packages/secret-tool", "/-/history", "/-/packages/absent"]) {
      const res = await browse(`/${secret}${path}`);
      expect(res.status, path).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe('Basic realm="armor", charset="UTF-8"');
      expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
      const body = await res.text();
      expect(body).toContain("Sign in to see this repository");
      expect(body).not.toContain("secret-tool");
    }
    const basic = `Basic ${btoa("me:test-operator-token")}`;
    const res = await browse(`/${secret}/`, { headers: { authorization: basic } });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("private, max-age=60");
    const body = await res.text();
    expect(body).toContain("secret-tool");
    expect(body).toContain(escaped('curl -fsSL -u "token:${ARMOR_TOKEN:?set ARMOR_TOKEN'));
    expect(body).toContain("/etc/apt/auth.conf.d/");
  });
});

describe("apt's paths", () => {
  it("answer as before whatever Accept says; the root answers HTML only to a request asking for it", async ({
    expect,
  }) => {
    for (const path of [
      "dists/stable/InRelease",
      "dists/stable/main/binary-amd64/Packages",
      "pool/main/t/tool/tool_1.2-1_amd64.deb",
      "archive-keyring.asc",
    ]) {
      const plain = await call(`/${repo}/${path}`, { auth: null });
      const html = await call(`/${repo}/${path}`, { auth: null, headers: { accept: HTML } });
      expect(html.status, path).toBe(200);
      expect(html.headers.get("content-type"), path).toBe(plain.headers.get("content-type"));
      expect(html.headers.get("etag"), path).toBe(plain.headers.get("etag"));
      expect(html.headers.get("cache-control"), path).toBe(plain.headers.get("cache-control"));
      expect(html.headers.get("vary"), path).toBe(plain.headers.get("vary"));
      expect(await html.arrayBuffer(), path).toEqual(await plain.arrayBuffer());
    }
    for (const accept of [undefined, "*/*", "application/json", "text/html;q=0"]) {
      const res = await call(`/${repo}/`, { auth: null, headers: accept === undefined ? {} : { accept } });
      expect(res.status, accept).toBe(404);
      expect(await res.json(), accept).toEqual({
        error: {
          code: "not_found",
          message: `repository ${repo} is served here; apt paths start with dists/ or pool/`,
        },
      });
    }
  });

  it("keep refusing other methods, and a snapshot ID that is not a time", async ({ expect }) => {
    const post = await call(`/${repo}/`, { method: "POST", auth: null, headers: { accept: HTML } });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
    await post.body?.cancel();
    const bad = await browse(`/${repo}/20261399T000000Z/`);
    expect(bad.status).toBe(400);
    expect(bad.headers.get("content-type")).toBe("text/html; charset=utf-8");
    await bad.body?.cancel();
  });
});

/** A package whose every free-text field is an attempt at markup (control fields are the uploader's to write). */
function hostileDeb(): TestDeb {
  const bytes = buildDeb({
    fields: [
      { name: "Package", value: "evil" },
      { name: "Version", value: "6.6.6" },
      { name: "Architecture", value: "amd64" },
      { name: "Maintainer", value: `Mallory ${HOSTILE}` },
      { name: "Homepage", value: "javascript:alert(1)" },
      { name: "Depends", value: `tool (>= 1.0), x${HOSTILE.replaceAll(" ", "")}` },
      { name: "Description", value: `${HOSTILE}\n ${HOSTILE}\n .\n   verbatim ${HOSTILE}` },
    ],
    files: [{ path: "/usr/share/doc/evil/README", data: "evil\n" }],
    mtime: 1_700_000_000,
  });
  const h = hashBytes(bytes);
  return { bytes, sha256: h.sha256, md5: h.md5, size: h.size };
}

/** Text as JSX escapes it in element content. */
function escaped(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}
