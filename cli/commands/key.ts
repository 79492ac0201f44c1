import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { KeyListSchema, type KeySummary, KeySummarySchema, RemovedKeySchema } from "../../schema/responses.ts";
import { CommandContext } from "../context.ts";
import { UserError } from "../errors.ts";
import type { Io } from "../output.ts";
import { table } from "../output.ts";

/** What adding a key did: trust it, or (a revoked key, a revocation certificate) record its revocation. */
export function describeAdded(k: KeySummary): string {
  if (k.status === "trusted") return `trusted ${k.fingerprint} (${k.user_ids.join(", ")})`;
  const why = k.revocation_reason === null ? "" : ` (${k.revocation_reason})`;
  return `revoked ${k.fingerprint}${why}: this repository no longer accepts its signatures, will never trust it again, and its archive keyring now carries the revocation`;
}

export function register(program: Command, io: Io): void {
  const key = program.command("key").description("the repository's trusted signing keys (public halves only)");

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

  key
    .command("list")
    .description("list the repository's keys: trusted ones, and revoked ones, which sign nothing")
    .addHelpText("after", "\nExample:\n  armor key list --repository acme/tools")
    .action(async (_options: unknown, command: Command) => {
      const ctx = new CommandContext(command, io);
      const listed = await ctx.client.json(ctx.client.repo(ctx.repository, "/keys"), KeyListSchema);
      ctx.out.result(listed, () =>
        table(
          ["FINGERPRINT", "STATUS", "ALGORITHM", "EXPIRES", "USER IDS"],
          listed.keys.map((k) => [
            k.fingerprint,
            k.revoked_at === null ? k.status : `${k.status} ${k.revoked_at}`,
            k.algorithm,
            k.expires_at ?? "never",
            k.user_ids.join(", "),
          ]),
        ),
      );
    });

  key
    .command("remove")
    .description("stop trusting a key (a revoked key stays listed, revoked: see key add)")
    .argument("<fingerprint>", "its fingerprint")
    .addHelpText(
      "after",
      "\nExample:\n  armor key remove --repository acme/tools C40921A4DC139A6C66D1D6CEF9FE940191D96B5C",
    )
    .action(async (fingerprint: string, _options: unknown, command: Command) => {
      const ctx = new CommandContext(command, io);
      const removed = await ctx.client.json(
        ctx.client.repo(ctx.repository, `/keys/${fingerprint.replace(/\s+/g, "")}`),
        RemovedKeySchema,
        { method: "DELETE" },
      );
      ctx.out.result(removed, () => `removed ${removed.removed}`);
    });
}
