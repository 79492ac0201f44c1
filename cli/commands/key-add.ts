import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { type KeySummary, KeySummarySchema } from "../../schema/responses.ts";
import { CommandContext } from "../context.ts";
import { UserError } from "../errors.ts";
import type { Io } from "../output.ts";

/** What adding a key did: trust it, or (a revoked key, a revocation certificate) record its revocation. */
export function describeAdded(k: KeySummary): string {
  if (k.status === "trusted") return `trusted ${k.fingerprint} (${k.user_ids.join(", ")})`;
  const why = k.revocation_reason === null ? "" : ` (${k.revocation_reason})`;
  return `revoked ${k.fingerprint}${why}: this repository no longer accepts its signatures, will never trust it again, and its archive keyring now carries the revocation`;
}

export function register(key: Command, io: Io): void {
  key
    .command("add")
    .description(
      "trust a public key for signing this repository's indexes; a revoked key or a revocation certificate revokes it",
    )
    .argument("<file>", "armored public key (gpg --armor --export KEYID), or a revocation certificate")
    .addHelpText(
      "after",
      "\nExample:\n  gpg --armor --export release@acme.example > key.asc && armor key add --repository acme/tools key.asc\n  gpg --gen-revoke KEYID > revoke.asc && armor key add --repository acme/tools revoke.asc   # stops it at once",
    )
    .action(async (file: string, _options: unknown, command: Command) => {
      const ctx = new CommandContext(command, io);
      let bytes: Uint8Array;
      try {
        bytes = readFileSync(file);
      } catch (cause) {
        throw new UserError(`cannot read ${file}`, {
          hint: "export the key with gpg --armor --export KEYID > key.asc",
          cause,
        });
      }
      const { publicKeyToSend } = await import("../public-key.ts");
      const text = await publicKeyToSend(bytes, file);
      const added = await ctx.client.json(ctx.client.repo(ctx.repository, "/keys"), KeySummarySchema, {
        json: { key: text },
      });
      ctx.out.result(added, () => describeAdded(added));
    });
}
