/**
 * The pages' one stylesheet, inlined in each page (about 3 KB: less than the request a separate
 * file would cost on a first visit). It follows the system's light or dark scheme
 * (prefers-color-scheme), reads on a phone (one column, tables and code scroll inside their own
 * box), and keeps keyboard focus visible. The Content-Security-Policy allows this exact text by
 * its hash and nothing else: no script, and no other style, may run or apply on a page.
 */

export const CSS = `
:root{color-scheme:light dark;--bg:#fff;--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--soft:#f6f8fa;--link:#0a58ca;--focus:#0a58ca;--warn-bg:#fff8c5;--warn-line:#bf8700;--bad-bg:#ffebe9;--bad-line:#cf222e;--ok:#1a7f37}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9da7b3;--line:#30363d;--soft:#161b22;--link:#6cb6ff;--focus:#6cb6ff;--warn-bg:#2e2614;--warn-line:#d29922;--bad-bg:#3a1618;--bad-line:#f85149;--ok:#3fb950}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;overflow-wrap:break-word}
a{color:var(--link)}
a:focus-visible,button:focus-visible,input:focus-visible,summary:focus-visible,[tabindex]:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
.skip{position:absolute;left:-9999px;top:0;background:var(--bg);padding:.5rem 1rem}
.skip:focus{left:.5rem;top:.5rem;z-index:1}
header.site,main,footer{max-width:64rem;margin:0 auto;padding:0 1rem}
header.site{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:.5rem 1.5rem;padding-top:.75rem;padding-bottom:.75rem;border-bottom:1px solid var(--line)}
.brand{margin:0;font-weight:600;overflow-wrap:anywhere}
.brand a{color:inherit;text-decoration:none}
nav ul{display:flex;flex-wrap:wrap;gap:.25rem 1rem;margin:0;padding:0;list-style:none}
nav a[aria-current]{font-weight:600;color:var(--fg)}
main{padding-top:1rem;padding-bottom:2rem}
main:focus{outline:none}
h1{font-size:1.75rem;line-height:1.25;margin:.5rem 0;overflow-wrap:anywhere}
h2{font-size:1.3rem;margin:2rem 0 .5rem;padding-bottom:.25rem;border-bottom:1px solid var(--line)}
h3{font-size:1.05rem;margin:1.25rem 0 .4rem}
.lede{color:var(--muted);margin-top:0}
.badge{display:inline-block;font-size:.8rem;font-weight:600;border:1px solid var(--line);border-radius:1rem;padding:0 .5rem;vertical-align:middle}
code,pre{font:.875rem/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:.75rem;overflow-x:auto;white-space:pre}
pre.wrap{white-space:pre-wrap;overflow-wrap:anywhere}
.hash{overflow-wrap:anywhere;word-break:break-all}
form.search{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin:1rem 0}
form.search label{flex-basis:100%;font-weight:600}
input[type=search]{flex:1 1 14rem;min-width:0;font:inherit;padding:.45rem .6rem;color:var(--fg);background:var(--bg);border:1px solid var(--muted);border-radius:6px}
button{font:inherit;padding:.45rem .9rem;border-radius:6px;border:1px solid var(--muted);background:var(--soft);color:var(--fg);cursor:pointer}
.table{overflow-x:auto;margin:.5rem 0}
table{border-collapse:collapse;width:100%}
caption{text-align:left;color:var(--muted);padding:.25rem 0}
th,td{text-align:left;vertical-align:top;padding:.4rem .6rem;border-bottom:1px solid var(--line)}
th{font-weight:600;white-space:nowrap}
td.num{text-align:right;white-space:nowrap}
dl.facts{display:grid;grid-template-columns:minmax(7rem,max-content) 1fr;gap:.3rem 1rem;margin:.5rem 0}
dl.facts dt{font-weight:600;color:var(--muted)}
dl.facts dd{margin:0;min-width:0;overflow-wrap:anywhere}
@media (max-width:36rem){dl.facts{grid-template-columns:1fr}dl.facts dd{margin-bottom:.4rem}}
.card{border:1px solid var(--line);border-radius:8px;padding:.25rem 1rem .75rem;margin:1rem 0}
.note{border-left:4px solid var(--warn-line);background:var(--warn-bg);padding:.5rem .75rem;margin:.5rem 0;border-radius:0 6px 6px 0}
.note.refused{border-color:var(--bad-line);background:var(--bad-bg)}
.note p{margin:.25rem 0}
ul.concerns{list-style:none;padding:0;margin:.5rem 0}
.ok{color:var(--ok)}
.muted{color:var(--muted)}
.pager{display:flex;gap:1rem;margin:1rem 0}
details{margin:.75rem 0}
summary{cursor:pointer;font-weight:600}
footer{color:var(--muted);font-size:.875rem;border-top:1px solid var(--line);padding-top:1rem;padding-bottom:2rem}
`;

let hash: Promise<string> | undefined;

/** The CSP source for the stylesheet: its SHA-256, base64 (CSP Level 3, "hash-source"). */
export function styleHash(): Promise<string> {
  hash ??= crypto.subtle.digest("SHA-256", new TextEncoder().encode(CSS)).then((digest) => {
    let binary = "";
    for (const b of new Uint8Array(digest)) binary += String.fromCharCode(b);
    return `'sha256-${btoa(binary)}'`;
  });
  return hash;
}
