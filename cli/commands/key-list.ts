import type { Command } from "commander";
import { KeyListSchema } from "../../schema/responses.ts";
import { CommandContext } from "../context.ts";
import type { Io } from "../output.ts";
import { table } from "../output.ts";

export function register(key: Command, io: Io): void {
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
}
