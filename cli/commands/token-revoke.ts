import type { Command } from "commander";
import { TokenSchema } from "../../schema/sidecar.ts";
import { CommandContext } from "../context.ts";
import type { Io } from "../output.ts";

export function register(token: Command, io: Io): void {
  token
    .command("revoke")
    .description(
      "revoke a token: the sidecar refuses it at once, and every edge stops accepting it within AUTH_CACHE_SECONDS (30 by default), the time its answers are cached",
    )
    .argument("<id>", "token id (from armor token list)")
    .addHelpText("after", "\nExample:\n  armor token revoke 3f2a…")
    .action(async (id: string, _options: unknown, command: Command) => {
      const ctx = new CommandContext(command, io);
      const revoked = await ctx.client.json(`/api/v1/tokens/${encodeURIComponent(id)}`, TokenSchema, {
        method: "DELETE",
      });
      ctx.out.result(revoked, () => `revoked ${revoked.id} (${revoked.name})`);
    });
}
