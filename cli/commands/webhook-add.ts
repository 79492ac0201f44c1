import type { Command } from "commander";
import { WEBHOOK_EVENTS, WEBHOOK_SECRET_MIN, WebhookEventSchema, WebhookSchema } from "../../schema/webhooks.ts";
import { CommandContext } from "../context.ts";
import { UserError } from "../errors.ts";
import type { Io } from "../output.ts";
import { parseOption } from "./parse.ts";

export function register(webhook: Command, io: Io): void {
  webhook
    .command("add")
    .description("send this repository's events to a URL: a signed JSON POST per event (admin)")
    .requiredOption("--url <url>", "the receiver, http(s)://…")
    .option(
      "--secret <secret>",
      "the key of each delivery's X-Armor-Signature (HMAC-SHA256), at least 16 characters (env ARMOR_WEBHOOK_SECRET); never shown again",
    )
    .option("--event <event...>", `only these events (default: all): ${WEBHOOK_EVENTS.join(", ")}`)
    .addHelpText(
      "after",
      [
        "",
        "Example:",
        "  armor webhook add --repository acme/tools --url https://ci.acme.example/hooks/armor \\",
        '    --secret "$(openssl rand -hex 32)" --event release.activated',
        "",
        "Each delivery is a POST with X-Armor-Event, X-Armor-Delivery (the same on every retry) and",
        "X-Armor-Signature: sha256=<hex HMAC-SHA256 of the body with the secret>, as GitHub signs.",
      ].join("\n"),
    )
    .action(async (options: { url: string; secret?: string; event?: string[] }, command: Command) => {
      const ctx = new CommandContext(command, io);
      const secret = options.secret ?? io.env.ARMOR_WEBHOOK_SECRET;
      if (secret === undefined || secret === "") {
        throw new UserError("no webhook secret given", {
          hint: 'pass --secret "$(openssl rand -hex 32)" or set ARMOR_WEBHOOK_SECRET, and give the receiver the same',
          code: "usage",
          exitCode: 2,
        });
      }
      // Checked here one flag at a time, so that no message ever repeats the secret.
      const events = options.event?.map((e) => parseOption(WebhookEventSchema, e, "--event"));
      if (secret.length < WEBHOOK_SECRET_MIN) {
        throw new UserError(`the webhook secret must be at least ${WEBHOOK_SECRET_MIN} characters`, {
          hint: "generate one with openssl rand -hex 32 (and give the receiver the same)",
          code: "usage",
          exitCode: 2,
        });
      }
      const input = { url: options.url, secret, ...(events === undefined ? {} : { events }) };
      const added = await ctx.client.parsed(WebhookSchema, ctx.client.repo(ctx.repository, "/webhooks"), {
        json: input,
      });
      ctx.out.result(added, () => `added webhook ${added.id}: ${added.events.join(", ")} → ${added.url}`);
    });
}
