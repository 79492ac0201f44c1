/**
 * Debian's Chromium, driven by playwright-core over the DevTools protocol: never a browser
 * downloaded by Playwright. `.ci/run` installs the `chromium` package; without it these tests
 * fail, naming what to install, rather than skip.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

/** Where screenshots go: test/artifacts/pages/ (gitignored), kept after the run. */
export const ARTIFACTS = new URL("../artifacts/pages/", import.meta.url).pathname;

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `the web page tests need Debian's Chromium at ${CHROMIUM}: run \`apt-get install -y chromium\` (or \`bash .ci/run\`, which installs it)`,
    );
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

export function artifact(name: string): string {
  return join(ARTIFACTS, name);
}
