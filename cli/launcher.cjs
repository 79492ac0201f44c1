#!/usr/bin/env node
// The `armor` command of the armor-cli npm package (`npm run pack:cli`): it says which Node.js armor
// needs before loading the one-file bundle, instead of letting an older Node fail on it somewhere.
// CommonJS and plain syntax on purpose: an old Node must be able to read this file to say so.
"use strict";

// The Node.js armor is built for (esbuild --target=node22) and tested on. The bundle uses no API that
// Node 20 lacks today (its CLI tests passed there once, by hand), but Node 20 reached its end of life
// in April 2026 and nothing tests it. scripts/build-cli.ts writes the package's "engines" from this.
const REQUIRED_NODE_MAJOR = 22;

const major = Number.parseInt(process.versions.node.split(".")[0], 10);
if (major < REQUIRED_NODE_MAJOR) {
  process.stderr.write(
    `error: armor needs Node.js ${REQUIRED_NODE_MAJOR} or newer; this is Node.js ${process.versions.node} (${process.execPath})\n` +
      `hint: put Node.js ${REQUIRED_NODE_MAJOR} or newer first on PATH, or install the standalone armor (armor-cli .deb, npm run build:deb), which needs no Node.js\n`,
  );
  process.exitCode = 1;
} else {
  // The bundle runs the command when loaded and turns every failure into its exit code; failing to
  // load it at all is a bug in the package (exit 70 with the stack, as cli/errors.ts does).
  import("../lib/armor.mjs").catch((error) => {
    console.error(error);
    process.exitCode = 70;
  });
}
