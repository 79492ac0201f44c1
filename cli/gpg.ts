/**
 * Signing with the system's gpg (`armor index sign --gpg`): smartcards, YubiKeys, agent-held keys.
 * gpg runs with arguments, never a shell string; its status lines (GnuPG doc/DETAILS) say why it
 * failed, so each failure a user can fix becomes a UserError with a hint (cli/signing.ts checks
 * what gpg made before it is returned).
 */
import { spawn, spawnSync } from "node:child_process";
import { readSignature } from "openpgp";
import { toHex } from "../deb/hash.ts";
import { UserError } from "./errors.ts";
import type { Signed, SignOptions } from "./signing.ts";

const GPG_HINT = "install GnuPG (`apt-get install gnupg`), or sign with openpgp.js: leave out --gpg and use --key-file";

/** libgpg-error codes (gpg-error.h) gpg reports in `[GNUPG:] FAILURE sign <code>`. */
const GPG_ERR = {
  badPassphrase: 11,
  noSecretKey: 17,
  /** The agent could not ask for the passphrase: no pinentry, no terminal, cancelled, none given. */
  noPassphrase: new Set([85, 99, 177, 32870]),
};

interface GpgSecretKey {
  fingerprint: string;
  userIds: string[];
}

/** Sign a Release with gpg: InRelease with --clearsign, Release.gpg with --armor --detach-sign. */
export async function signWithGpg(releaseText: string, options: SignOptions): Promise<Signed> {
  let fingerprint: string | undefined;
  if (options.key !== undefined) {
    // gpg -u would silently take the first of several matches; refuse, as with openpgp.js keys.
    const found = await listSecretKeys(options.key, options);
    const only = found[0];
    if (only === undefined) {
      throw new UserError(`gpg has no secret key matching "${options.key}".`, {
        hint: "list them with `gpg --list-secret-keys`; import one with `gpg --import`",
        code: "key_not_found",
      });
    }
    if (found.length > 1) {
      const list = found.map((k) => `${k.fingerprint} (${k.userIds[0] ?? "no user ID"})`).join(", ");
      throw new UserError(`"${options.key}" matches ${found.length} secret keys in gpg: ${list}.`, {
        hint: "choose one with --key=<fingerprint>",
        code: "ambiguous_key",
      });
    }
    fingerprint = only.fingerprint;
  }
  const data = new TextEncoder().encode(releaseText);
  const user = options.key === undefined ? [] : ["--local-user", options.key];
  const inrelease = await gpgSign([...user, "--clearsign"], data, options);
  const releaseGpg = await gpgSign([...user, "--armor", "--detach-sign"], data, options);
  if (fingerprint === undefined) fingerprint = await signerOf(releaseGpg, options);
  const exported = await runGpg(["--armor", "--export", "--", fingerprint], options);
  if (exported.code !== 0 || !exported.stdout.includes("-----BEGIN PGP PUBLIC KEY BLOCK-----")) {
    throw gpgFailure(`gpg could not export the public key ${fingerprint}`, exported);
  }
  return { inrelease, releaseGpg, fingerprint, publicKey: exported.stdout };
}

async function gpgSign(args: readonly string[], data: Uint8Array, options: SignOptions): Promise<string> {
  // With a passphrase, gpg takes it on fd 3 (stdin carries the Release); otherwise gpg-agent asks for
  // it with its pinentry, or has it cached, or the key lives on a card that asks for its PIN.
  const loopback = options.passphrase === undefined ? [] : ["--pinentry-mode", "loopback", "--passphrase-fd", "3"];
  const result = await runGpg([...loopback, "--status-fd", "2", ...args], options, data);
  // On failure gpg has already written the clearsign header to stdout: only a 0 exit means a signature.
  if (result.code === 0) return result.stdout;
  const failure = result.status.find((s) => s.startsWith("FAILURE "))?.split(" ")[2];
  const code = failure === undefined ? undefined : Number(failure) & 0xffff;
  const key = options.key ?? "gpg's default key";
  if (code === GPG_ERR.badPassphrase || result.status.includes("BAD_PASSPHRASE")) {
    throw new UserError(`Wrong passphrase for ${key} (gpg).`, {
      hint: "check ARMOR_SIGNING_PASSPHRASE (or what you typed)",
      code: "bad_passphrase",
    });
  }
  if (code !== undefined && GPG_ERR.noPassphrase.has(code)) {
    throw new UserError(`gpg could not get the passphrase for ${key} (${gpgMessage(result)}).`, {
      hint: "set ARMOR_SIGNING_PASSPHRASE, or on a terminal `export GPG_TTY=$(tty)` so gpg-agent can ask for it",
      code: "passphrase_required",
    });
  }
  if (code === GPG_ERR.noSecretKey || result.status.some((s) => s.startsWith("INV_SGNR "))) {
    throw new UserError(`gpg cannot sign with ${key} (${gpgMessage(result)}).`, {
      hint: "check `gpg --list-secret-keys`: the key must be there, valid and able to sign (for a card, plugged in)",
      code: "key_unusable",
    });
  }
  throw gpgFailure("gpg failed to sign", result);
}

/** `gpg --with-colons --list-secret-keys`: the primary fingerprint and user IDs of each match. */
async function listSecretKeys(query: string, options: SignOptions): Promise<GpgSecretKey[]> {
  const result = await runGpg(["--with-colons", "--list-secret-keys", "--", query], options);
  // gpg exits 2 when nothing matches; anything else unexpected shows up as an empty list.
  const keys: GpgSecretKey[] = [];
  let current: GpgSecretKey | undefined;
  let expectPrimaryFpr = false;
  for (const line of result.stdout.split("\n")) {
    const fields = line.split(":");
    const type = fields[0];
    if (type === "sec") {
      current = { fingerprint: "", userIds: [] };
      keys.push(current);
      expectPrimaryFpr = true;
    } else if (type === "ssb") {
      expectPrimaryFpr = false;
    } else if (type === "fpr" && expectPrimaryFpr && current !== undefined) {
      current.fingerprint = (fields[9] ?? "").toUpperCase();
      expectPrimaryFpr = false;
    } else if (type === "uid" && current !== undefined) {
      current.userIds.push(unescapeColons(fields[9] ?? ""));
    }
  }
  if (result.code !== 0 && keys.length === 0 && !/no secret key|not found/i.test(result.stderr)) {
    throw gpgFailure("gpg could not list its secret keys", result);
  }
  return keys.filter((k) => k.fingerprint !== "");
}

/** The primary fingerprint of the key that made a signature, when gpg chose the key itself. */
async function signerOf(armoredSignature: string, options: SignOptions): Promise<string> {
  const signature = await readSignature({ armoredSignature });
  const packet = signature.packets[0];
  const issuer = packet?.issuerFingerprint ? toHex(packet.issuerFingerprint) : packet?.issuerKeyID.toHex();
  const found = issuer === undefined ? [] : await listSecretKeys(issuer, options);
  const only = found[0];
  if (only === undefined || found.length > 1) {
    throw new UserError("Cannot tell which gpg key made the signature.", {
      hint: "name it with --key=<fingerprint>",
      code: "gpg_failed",
    });
  }
  return only.fingerprint;
}

interface GpgResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** `[GNUPG:]` status lines (doc/DETAILS in GnuPG), without the prefix. */
  status: string[];
}

/** Run gpg with arguments (never a shell string), `input` on stdin and the passphrase, if any, on fd 3. */
function runGpg(args: readonly string[], options: SignOptions, input?: Uint8Array): Promise<GpgResult> {
  const home = options.gpgHome === undefined ? [] : ["--homedir", options.gpgHome];
  const child = spawn("gpg", [...home, "--batch", ...args], {
    stdio: ["pipe", "pipe", "pipe", "pipe"],
    env: gpgEnv(),
  });
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr?.on("data", (chunk: Buffer) => err.push(chunk));
    child.on("error", (cause: NodeJS.ErrnoException) => {
      reject(
        cause.code === "ENOENT"
          ? new UserError("gpg is not installed.", { hint: GPG_HINT, code: "gpg_missing", cause })
          : new UserError(`Cannot run gpg (${cause.message}).`, { hint: GPG_HINT, code: "gpg_failed", cause }),
      );
    });
    child.on("close", (code) => {
      const stderr = Buffer.concat(err).toString("utf8");
      const status = stderr.split("\n").flatMap((l) => (l.startsWith("[GNUPG:] ") ? [l.slice(9)] : []));
      resolve({ code, stdout: Buffer.concat(out).toString("utf8"), stderr, status });
    });
    // gpg may exit before reading everything (a missing key): its closed pipes are not our error.
    const passphraseFd = child.stdio[3];
    for (const stream of [child.stdin, passphraseFd]) stream?.on("error", () => {});
    if (passphraseFd !== null && passphraseFd !== undefined && "end" in passphraseFd) {
      passphraseFd.end(options.passphrase === undefined ? "" : `${options.passphrase}\n`);
    }
    child.stdin?.end(input);
  });
}

/**
 * gpg's stdin is the Release, so gpg-agent cannot find the terminal to ask for a passphrase on by
 * itself: tell it, as `export GPG_TTY=$(tty)` would (gpg-agent(1)).
 */
function gpgEnv(): NodeJS.ProcessEnv {
  if (process.env.GPG_TTY !== undefined || !process.stdin.isTTY) return process.env;
  const tty = spawnSync("tty", [], { stdio: ["inherit", "pipe", "ignore"], encoding: "utf8" });
  const name = tty.status === 0 ? tty.stdout.trim() : "";
  return name.startsWith("/dev/") ? { ...process.env, GPG_TTY: name } : process.env;
}

function gpgFailure(what: string, result: GpgResult): UserError {
  return new UserError(`${what} (${gpgMessage(result)}).`, {
    hint: "run the same gpg command by hand to see what it needs",
    code: "gpg_failed",
  });
}

/** gpg's own words: its last "gpg: …" line, or the exit code. */
function gpgMessage(result: GpgResult): string {
  const said = result.stderr
    .split("\n")
    .filter((l) => l.startsWith("gpg: "))
    .at(-1);
  return said?.slice(5).trim() || `exit code ${result.code}`;
}

/** `--with-colons` escapes ":" and other bytes as \xNN (GnuPG doc/DETAILS). */
function unescapeColons(text: string): string {
  return text.replace(/\\x([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}
