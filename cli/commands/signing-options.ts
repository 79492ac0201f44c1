import type { Command } from "commander";
import type { CommandContext } from "../context.ts";
import type { SignOptions } from "../signing.ts";

export interface SigningFlags {
  key?: string;
  keyFile?: string;
  gpg?: boolean;
}

/** The signing flags shared by `index sign` and `publish`. */
export function addSigningFlags(command: Command): Command {
  return command
    .option("--key <keyid>", "signing key: fingerprint, key id or user id (like gpg -u)")
    .option(
      "--key-file <file>",
      "armored secret key file (default: ARMOR_SIGNING_KEY, then the config's keyring directory)",
    )
    .option("--gpg", "sign with the system's gpg (smartcards, agents, HSMs) instead of openpgp.js");
}

/** Flags > environment (ARMOR_SIGNING_KEY, ARMOR_SIGNING_PASSPHRASE) > the config's keyring directory. */
export function signOptions(ctx: CommandContext, flags: SigningFlags): SignOptions {
  const env = ctx.io.env;
  const options: SignOptions = { keyringDir: ctx.settings.keyringDir };
  if (flags.key !== undefined) options.key = flags.key;
  if (flags.keyFile !== undefined) options.keyFile = flags.keyFile;
  if (env.ARMOR_SIGNING_KEY) options.keyText = env.ARMOR_SIGNING_KEY;
  if (env.ARMOR_SIGNING_PASSPHRASE !== undefined) options.passphrase = env.ARMOR_SIGNING_PASSPHRASE;
  if (flags.gpg) options.gpg = true;
  if (env.GNUPGHOME) options.gpgHome = env.GNUPGHOME;
  const prompt = ctx.io.prompt;
  if (prompt) options.promptPassphrase = () => prompt("passphrase for the signing key: ");
  return options;
}
