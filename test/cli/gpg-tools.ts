/**
 * Real gpg, gpgv and dpkg for the CLI's signing and keyring tests: throwaway GNUPGHOMEs and temporary
 * directories, and the tools' answers (exit status, output, `[GNUPG:]` status lines) rather than throws,
 * so a test can assert a refusal as precisely as an acceptance.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encryptKey, generateKey, readPrivateKey } from "openpgp";
import { UserError } from "../../cli/errors.ts";

export interface ToolResult {
  status: number | null;
  stdout: Buffer;
  stderr: string;
  /** `[GNUPG:]` lines from --status-fd 2, without the prefix. */
  gnupg: string[];
}

export function tool(cmd: string, args: readonly string[], input?: Uint8Array | string): ToolResult {
  const r = spawnSync(cmd, args, { input, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  const stderr = r.stderr.toString("utf8");
  const gnupg = stderr.split("\n").flatMap((l) => (l.startsWith("[GNUPG:] ") ? [l.slice(9)] : []));
  return { status: r.status, stdout: r.stdout, stderr, gnupg };
}

/** gpg for what needs no keys (--dearmor, --show-keys), in a throwaway home: never the user's ~/.gnupg. */
export function gpgTool(args: readonly string[], input?: Uint8Array | string): ToolResult {
  const home = tempDir("gpg-tool");
  try {
    return tool("gpg", ["--homedir", home.path, "--batch", ...args], input);
  } finally {
    home.cleanup();
  }
}

/** A temporary directory removed by `cleanup` (call it in a finally or onTestFinished). */
export function tempDir(prefix: string): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), `armor-${prefix}-`));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * A throwaway GNUPGHOME holding `secretKeys`, whose gpg-agent can never ask anyone for a passphrase
 * (its pinentry is /bin/false), whatever terminal or desktop the tests run on.
 */
export function gpgHome(secretKeys: readonly string[]): { path: string; cleanup: () => void } {
  const dir = tempDir("gnupg");
  try {
    writeFileSync(join(dir.path, "gpg-agent.conf"), "pinentry-program /bin/false\n", { mode: 0o600 });
    for (const key of secretKeys) {
      const r = tool("gpg", ["--homedir", dir.path, "--batch", "--quiet", "--import"], key);
      if (r.status !== 0) throw new Error(`gpg --import failed: ${r.stderr}`);
    }
  } catch (cause) {
    dir.cleanup();
    throw cause;
  }
  return {
    path: dir.path,
    cleanup: () => {
      // The agent gpg started for this home would otherwise outlive the test.
      spawnSync("gpgconf", ["--homedir", dir.path, "--kill", "all"]);
      dir.cleanup();
    },
  };
}

/** A binary keyring for gpgv, as `gpg --dearmor` makes one from armored public keys. */
export function dearmoredKeyring(dir: string, armoredKeys: readonly string[], name = "keyring.gpg"): string {
  const parts = armoredKeys.map((k) => {
    const r = gpgTool(["--dearmor"], k);
    if (r.status !== 0) throw new Error(`gpg --dearmor failed: ${r.stderr}`);
    return r.stdout;
  });
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat(parts));
  return path;
}

/** What apt runs: gpgv against one keyring file, nothing else trusted. */
export function gpgv(keyring: string, args: readonly string[]): ToolResult {
  const home = tempDir("gpgv");
  try {
    return tool("gpgv", ["--homedir", home.path, "--status-fd", "2", "--keyring", keyring, ...args]);
  } finally {
    home.cleanup();
  }
}

/** Fingerprints gpgv reports as VALIDSIG: the signing key's, then its primary key's. */
export function validSignatures(result: ToolResult): string[] {
  return result.gnupg.flatMap((l) => (l.startsWith("VALIDSIG ") ? [l.split(" ").at(-1) ?? ""] : []));
}

/** Write each file into `dir` and return their paths. */
export function writeFiles<K extends string>(dir: string, files: Record<K, string | Uint8Array>): Record<K, string> {
  mkdirSync(dir, { recursive: true });
  const paths = {} as Record<K, string>;
  for (const [name, data] of Object.entries(files) as [K, string | Uint8Array][]) {
    paths[name] = join(dir, name);
    writeFileSync(paths[name], data);
  }
  return paths;
}

/** The test key, locked with a passphrase as `gpg --export-secret-keys` of a protected key would be. */
export async function lockedKey(armoredSecret: string, passphrase: string): Promise<string> {
  const privateKey = await readPrivateKey({ armoredKey: armoredSecret });
  return (await encryptKey({ privateKey, passphrase })).armor();
}

/** A fresh ed25519 test key; `expiredDaysAgo` back-dates it so it expired that many days ago. */
export async function freshKey(options: { name: string; expiredDaysAgo?: number }): Promise<{
  secret: string;
  public: string;
}> {
  const day = 86_400;
  const expired = options.expiredDaysAgo;
  const { privateKey, publicKey } = await generateKey({
    type: "ecc",
    curve: "ed25519Legacy",
    userIDs: [{ name: `${options.name} (TEST ONLY)`, email: `${options.name}@armor.test` }],
    ...(expired === undefined
      ? {}
      : { date: new Date(Date.now() - (expired + 2) * day * 1000), keyExpirationTime: 2 * day }),
  });
  return { secret: privateKey, public: publicKey };
}

/** The UserError a promise rejects with, as plain data to compare. */
export async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string; hint?: string }> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof UserError) return { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
    throw e;
  }
  throw new Error("expected a UserError, but the promise resolved");
}
