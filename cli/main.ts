#!/usr/bin/env node
/** Entry point of the `armor` command (package.json "bin"; bundled by `npm run build:cli`). */
import { createInterface } from "node:readline";
import { Writable } from "node:stream";
import { run } from "./index.ts";

/** Read a line from the terminal without echoing it (passphrases, tokens). */
function prompt(question: string): Promise<string> {
  process.stderr.write(question);
  const muted = new Writable({ write: (_chunk, _encoding, done) => done() });
  const rl = createInterface({ input: process.stdin, output: muted, terminal: true });
  return new Promise((resolve) => {
    rl.question("", (answer) => {
      rl.close();
      process.stderr.write("\n");
      resolve(answer);
    });
  });
}

// No top-level await: the standalone executable runs this file as CommonJS (Node 22's SEA loads
// only a CommonJS main script), and `run` never rejects (it turns every failure into an exit code).
void run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  ...(process.stdin.isTTY ? { prompt } : {}),
}).then((code) => {
  process.exitCode = code;
});
