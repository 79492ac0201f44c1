/**
 * Builds the `armor` CLI for machines that do not have this repository:
 *
 *   node scripts/build-cli.ts bundle  dist/armor.mjs                one file, any Node ≥ 22 (npm run build:cli)
 *   node scripts/build-cli.ts pack    dist/armor-cli-VERSION.tgz    npm install -g ./that.tgz (npm run pack:cli)
 *   node scripts/build-cli.ts exe     dist/armor                    Linux x64, needs no Node (npm run build:exe)
 *   node scripts/build-cli.ts deb     dist/armor-cli_VERSION_amd64.deb   /usr/bin/armor (npm run build:deb)
 *
 * `--out DIR` writes somewhere other than dist/ (the tests build into a temporary directory).
 * Nothing here reaches a registry: the npm package has no dependencies, and the executable is the
 * Node 22 binary `npm install` put in node_modules with the bundle injected as a single executable
 * application (https://nodejs.org/docs/latest-v22.x/api/single-executable-applications.html).
 */
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { isBuiltin } from "node:module";
import { join, relative, resolve } from "node:path";
import { type BuildOptions, build, type Metafile } from "esbuild";
import { buildDeb } from "../deb/deb-writer.ts";

const root = resolve(import.meta.dirname, "..");
/** The pinned Node 22 (`node` in devDependencies): the executable is a copy of it. */
const pinnedNode = join(root, "node_modules", "node", "bin", "node");
const postject = join(root, "node_modules", "postject", "dist", "cli.js");
/** Where Node looks for the injected blob (the SEA docs' `--sentinel-fuse`). */
const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";
const NPM_PACKAGE = "armor-cli";
const DEB_PACKAGE = "armor-cli";

/** The version every artefact carries: package.json's, which `armor --version` must print too. */
function version(): string {
  return (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version;
}

/** The Node major the launcher insists on (cli/launcher.cjs is the one place that says it). */
function requiredNodeMajor(): number {
  const match = /const REQUIRED_NODE_MAJOR = (\d+);/.exec(readFileSync(join(root, "cli", "launcher.cjs"), "utf8"));
  if (!match?.[1]) throw new Error("cli/launcher.cjs no longer declares REQUIRED_NODE_MAJOR");
  return Number(match[1]);
}

const common = {
  entryPoints: [join(root, "cli", "main.ts")],
  bundle: true,
  platform: "node",
  target: "node22",
  logLevel: "warning",
  metafile: true as const,
} satisfies BuildOptions;

/**
 * Everything but Node's own modules must be inside the file, loaded by no dynamic import():
 * a single executable application can `require` only built-in modules and, on Node 22, has no
 * dynamic import() at all. openpgp.js is imported lazily (`import("./signing.ts")`); esbuild
 * inlines such imports of bundled files, and this check fails the build if one ever stays.
 */
function assertSelfContained(metafile: Metafile, file: string): void {
  for (const output of Object.values(metafile.outputs)) {
    for (const imported of output.imports) {
      if (imported.kind === "dynamic-import" || !isBuiltin(imported.path)) {
        throw new Error(`${file} would load ${imported.path} at run time (${imported.kind}); it must be bundled`);
      }
    }
  }
}

/** The one-file ES module: dist/armor.mjs, what the npm package and the benchmarks run. */
async function bundle(out: string): Promise<string> {
  const outfile = join(out, "armor.mjs");
  const result = await build({
    ...common,
    format: "esm",
    outfile,
    // The CommonJS dependencies (commander) call require() for Node's modules.
    banner: {
      js: "import { createRequire as __armorRequire } from 'node:module'; const require = __armorRequire(import.meta.url);",
    },
  });
  assertSelfContained(result.metafile, outfile);
  return outfile;
}

/**
 * The same program as CommonJS, which is all a Node 22 single executable application can run.
 * CommonJS has no import.meta: esbuild would make it `{}` (silently, inside node_modules), and
 * openpgp.js's ES module build calls createRequire(import.meta.url) as it loads, so import.meta.url
 * is defined as this file's URL instead, and the build fails if any other use of import.meta stays.
 */
async function bundleCommonJs(dir: string): Promise<{ file: string; metafile: Metafile }> {
  const file = join(dir, "armor.cjs");
  const result = await build({
    ...common,
    format: "cjs",
    outfile: file,
    define: { "import.meta.url": "__armorImportMetaUrl" },
    banner: { js: 'const __armorImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
  });
  assertSelfContained(result.metafile, file);
  if (/\bimport_meta\d*\s*=\s*\{\}/.test(readFileSync(file, "utf8"))) {
    throw new Error(
      `${file} reads import.meta, which CommonJS does not have: define what it needs in scripts/build-cli.ts`,
    );
  }
  return { file, metafile: result.metafile };
}

function run(command: string, args: string[], what: string, cwd = root): string {
  const r = spawnSync(command, args, { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) {
    throw new Error(`${what} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stdout ?? ""}${r.stderr ?? ""}`);
  }
  return r.stdout;
}

/** Run a built armor with --version and insist it prints package.json's version. */
function checkVersion(command: string, args: string[]): void {
  const printed = run(command, [...args, "--version"], `${relative(root, command)} --version`).trim();
  if (printed !== version()) {
    throw new Error(
      `armor --version prints ${printed} but package.json says ${version()}: update VERSION in cli/index.ts`,
    );
  }
}

/**
 * armor-cli-VERSION.tgz: bin/armor.js (cli/launcher.cjs) and lib/armor.mjs, no dependencies, so
 * `npm install -g ./armor-cli-VERSION.tgz` needs no registry.
 */
async function pack(out: string): Promise<string> {
  const stage = join(out, ".npm-package");
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(join(stage, "bin"), { recursive: true });
  const bundled = await bundle(join(stage, "lib"));
  copyFileSync(join(root, "cli", "launcher.cjs"), join(stage, "bin", "armor.js"));
  chmodSync(join(stage, "bin", "armor.js"), 0o755);
  const manifest = {
    name: NPM_PACKAGE,
    version: version(),
    description: "The armor command: upload .deb files to an Armor APT repository, sign its indexes locally, publish",
    bin: { armor: "bin/armor.js" },
    engines: { node: `>=${requiredNodeMajor()}` },
    files: ["bin", "lib"],
  };
  writeFileSync(join(stage, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(
    join(stage, "README.md"),
    `# ${NPM_PACKAGE}\n\nThe \`armor\` command of Armor (signed APT repositories at the edge), as one file with no\ndependencies. Needs Node.js ${requiredNodeMajor()} or newer. \`armor --help\` lists the commands.\n`,
  );
  checkVersion(process.execPath, [bundled]);
  const packed = JSON.parse(
    run("npm", ["pack", "--offline", "--json", "--pack-destination", resolve(out)], "npm pack", stage),
  ) as {
    filename: string;
  }[];
  const filename = packed[0]?.filename;
  if (!filename) throw new Error("npm pack named no tarball");
  rmSync(stage, { recursive: true, force: true });
  return join(out, filename);
}

/**
 * dist/armor: a copy of the pinned Node 22 with the CommonJS bundle and V8's code cache for it
 * injected (`useCodeCache`, so start-up skips compiling the 2 MB script). The code cache is only
 * valid for the Node binary that made it, which is why the blob is prepared with that same binary.
 */
async function executable(out: string): Promise<{ file: string; metafile: Metafile }> {
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new Error(
      `the standalone executable is built on Linux x64 only (this is ${process.platform} ${process.arch})`,
    );
  }
  if (!existsSync(pinnedNode) || !existsSync(postject)) throw new Error("node_modules is incomplete: run npm install");
  const nodeVersion = run(pinnedNode, ["--version"], "node --version").trim();
  if (!nodeVersion.startsWith("v22.")) throw new Error(`node_modules/node is ${nodeVersion}, not Node 22`);

  const work = join(out, ".sea");
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const { file: main, metafile } = await bundleCommonJs(work);
  const blob = join(work, "armor.blob");
  const config = join(work, "sea-config.json");
  writeFileSync(
    config,
    JSON.stringify({ main, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true, useSnapshot: false }),
  );
  run(pinnedNode, ["--experimental-sea-config", config], "node --experimental-sea-config");

  const target = join(out, "armor");
  const partial = join(work, "armor");
  copyFileSync(pinnedNode, partial);
  chmodSync(partial, 0o755);
  // postject prints LIEF's warnings about Node's many .note sections; they are harmless, so its
  // output is shown only when it fails.
  run(process.execPath, [postject, partial, "NODE_SEA_BLOB", blob, "--sentinel-fuse", SEA_FUSE], "postject");
  checkVersion(partial, []);
  renameSync(partial, target);
  rmSync(work, { recursive: true, force: true });
  return { file: target, metafile };
}

/** What the executable holds, for the package's copyright file (Debian Policy §12.5). */
function bundledPackages(metafile: Metafile): string[] {
  const names = new Set<string>();
  for (const input of Object.keys(metafile.inputs)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match?.[1]) names.add(match[1]);
  }
  return [...names].sort().map((name) => {
    const manifest = JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")) as {
      version: string;
      license?: string;
    };
    return `${name} ${manifest.version}: ${manifest.license ?? "see the package"}`;
  });
}

/**
 * armor-cli_VERSION_amd64.deb: the executable as /usr/bin/armor, written by deb/'s writer (gzip
 * members, as `dpkg-deb -Zgzip`; xz would save a third but takes a minute on two cores).
 */
async function debianPackage(out: string): Promise<string> {
  const { file: exe, metafile } = await executable(out);
  const nodeVersion = run(pinnedNode, ["--version"], "node --version").trim().slice(1);
  const copyright = [
    `${DEB_PACKAGE}: the armor command of Armor, signed APT repositories at the edge.`,
    "",
    "/usr/bin/armor is Node.js with the armor command and the JavaScript packages it uses bundled",
    "into it. Their licenses:",
    `  Node.js ${nodeVersion}: MIT, and the licenses of what Node.js bundles, listed in its LICENSE file`,
    `  (https://github.com/nodejs/node/blob/v${nodeVersion}/LICENSE)`,
    ...bundledPackages(metafile).map((line) => `  ${line}`),
    "",
  ].join("\n");
  const mtime = Number(process.env.SOURCE_DATE_EPOCH ?? Math.floor(Date.now() / 1000));
  const bytes = buildDeb({
    fields: [
      { name: "Package", value: DEB_PACKAGE },
      { name: "Version", value: version() },
      { name: "Architecture", value: "amd64" },
      { name: "Maintainer", value: "Armor <noreply@armor.invalid>" },
      // What the Node 22 binary links against (ldd): glibc 2.28 and GCC 5's libstdc++.
      { name: "Depends", value: "libc6 (>= 2.28), libgcc-s1 | libgcc1, libstdc++6 (>= 5.2)" },
      { name: "Section", value: "utils" },
      { name: "Priority", value: "optional" },
      {
        name: "Description",
        value:
          "command line client of Armor, signed APT repositories at the edge\n" +
          " armor uploads .deb files to an Armor repository, signs its indexes on this\n" +
          " machine (the signing key never leaves it) and publishes them.\n" +
          " .\n" +
          ` A standalone executable: Node.js ${nodeVersion} is built in.`,
      },
    ],
    files: [
      { path: "/usr/bin/armor", data: readFileSync(exe), mode: 0o755 },
      { path: `/usr/share/doc/${DEB_PACKAGE}/copyright`, data: copyright },
    ],
    mtime,
  });
  const file = join(out, `${DEB_PACKAGE}_${version()}_amd64.deb`);
  writeFileSync(file, bytes);
  return file;
}

const STEPS: Record<string, (out: string) => Promise<string>> = {
  bundle,
  pack,
  exe: async (out) => (await executable(out)).file,
  deb: debianPackage,
};

async function main(argv: string[]): Promise<void> {
  const [step, ...rest] = argv;
  let out = join(root, "dist");
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    const value = rest[i + 1];
    if (arg === "--out" && value !== undefined) {
      out = resolve(value);
      i++;
    } else {
      throw new Error(`unknown argument ${arg}`);
    }
  }
  const make = step === undefined ? undefined : STEPS[step];
  if (make === undefined)
    throw new Error(`usage: node scripts/build-cli.ts ${Object.keys(STEPS).join("|")} [--out DIR]`);
  mkdirSync(out, { recursive: true });
  const file = await make(out);
  const size = (statSync(file).size / 1024 / 1024).toFixed(1);
  process.stdout.write(`wrote ${relative(process.cwd(), file)} (${size} MiB)\n`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`build-cli: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
