import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { CommandContext } from "../context.ts";
import { UserError } from "../errors.ts";
import type { Io } from "../output.ts";
import { table } from "../output.ts";

interface KeySummary {
  fingerprint: string;
  user_ids: string[];
  algorithm: string;
  expires_at: string | null;
}

export function register(program: Command, io: Io): void {
  const key = program.command("key").description("the repository's trusted signing keys (public halves only)");

  key
    .command("add")
    .description("trust a public key for signing this repository's indexes")
    .argument("<file>", "armored public key (gpg --armor --export KEYID)")
    .addHelpText(
      "after",
      "\nExample:\n  gpg --armor --export release@acme.example > key.asc && armor key add --repository acme/tools key.asc",
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
      const added = await ctx.client.json<KeySummary>(ctx.client.repo(ctx.repository, "/keys"), {
        json: { key: text },
      });
      ctx.out.result(added, () => `trusted ${added.fingerprint} (${added.user_ids.join(", ")})`);
    });

  key
    .command("list")
    .description("list trusted keys")
    .addHelpText("after", "\nExample:\n  armor key list --repository acme/tools")
    .action(async (_options: unknown, command: Command) => {
      const ctx = new CommandContext(command, io);
      const listed = await ctx.client.json<{ keys: KeySummary[] }>(ctx.client.repo(ctx.repository, "/keys"));
      ctx.out.result(listed, () =>
        table(
          ["FINGERPRINT", "ALGORITHM", "EXPIRES", "USER IDS"],
          listed.keys.map((k) => [k.fingerprint, k.algorithm, k.expires_at ?? "never", k.user_ids.join(", ")]),
        ),
      );
    });

  key
    .command("remove")
    .description("stop trusting a key")
    .argument("<fingerprint>", "its fingerprint")
    .addHelpText(
      "after",
      "\nExample:\n  armor key remove --repository acme/tools C40921A4DC139A6C66D1D6CEF9FE940191D96B5C",
    )
    .action(async (fingerprint: string, _options: unknown, command: Command) => {
      const ctx = new CommandContext(command, io);
      const removed = await ctx.client.json<{ removed: string }>(
        ctx.client.repo(ctx.repository, `/keys/${fingerprint.replace(/\s+/g, "")}`),
        {
          method: "DELETE",
        },
      );
      ctx.out.result(removed, () => `removed ${removed.removed}`);
    });
}
