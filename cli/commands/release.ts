import type { Command } from "commander";
import { ReleaseIdSchema } from "../../schema/index-document.ts";
import {
  type ActivatedRelease,
  ActivatedReleaseSchema,
  DiscardedReleaseSchema,
  type MemberSummary,
  ReleaseDetailSchema,
  ReleaseDiffSchema,
  ReleaseListSchema,
  ReleaseSummarySchema,
} from "../../schema/responses.ts";
import { CommandContext } from "../context.ts";
import { UserError } from "../errors.ts";
import type { Io } from "../output.ts";
import { table } from "../output.ts";
import { addWaitFlag, awaitEdge, pendingRelease, publishDists, waitSeconds } from "../publishing.ts";
import { parseOption } from "./parse.ts";
import { addSigningFlags, type SigningFlags, signOptions } from "./signing-options.ts";

export function register(program: Command, io: Io): void {
  const release = program.command("release").description("releases: copy-on-write snapshots of the whole repository");

  release
    .command("create")
    .description("open a new release, from the active one (default), from another release, or empty")
    .option("--from <release>", 'the release to start from: "active", "empty" or a release id', "active")
    .addHelpText("after", "\nExample:\n  armor release create --repository acme/tools --from empty")
    .action(async (options: { from: string }, command: Command) => {
      const ctx = new CommandContext(command, io);
      const created = await ctx.client.json(ctx.client.repo(ctx.repository, "/releases"), ReleaseSummarySchema, {
        json: { from: options.from },
      });
      ctx.out.result(
        created,
        () => `opened release ${created.id}${created.parent ? ` from ${created.parent}` : " (empty)"}`,
      );
    });

  release
    .command("discard")
    .description("drop the open release and every change in it; the active release is untouched")
    .argument("[release]", "the open release's id (default: whichever is open)")
    .addHelpText("after", "\nExample:\n  armor release discard --repository acme/tools")
    .action(async (id: string | undefined, _options: unknown, command: Command) => {
      const ctx = new CommandContext(command, io);
      let rid = id === undefined ? undefined : parseOption(ReleaseIdSchema, id, "release");
      if (rid === undefined) {
        const listed = await ctx.client.json(ctx.client.repo(ctx.repository, "/releases"), ReleaseListSchema);
        rid = listed.releases.find((r) => r.state === "open")?.id;
        if (rid === undefined) throw new UserError("there is no open release to discard", { code: "no_open_release" });
      }
      const done = await ctx.client.json(ctx.client.repo(ctx.repository, `/releases/${rid}`), DiscardedReleaseSchema, {
        method: "DELETE",
      });
      ctx.out.result(
        done,
        () => `discarded release ${done.discarded}${done.parent ? `; ${done.parent} stays as it was` : ""}`,
      );
    });

  release
    .command("list")
    .description("list releases, newest first")
    .addHelpText("after", "\nExample:\n  armor release list --repository acme/tools")
    .action(async (_options: unknown, command: Command) => {
      const ctx = new CommandContext(command, io);
      const listed = await ctx.client.json(ctx.client.repo(ctx.repository, "/releases"), ReleaseListSchema);
      ctx.out.result(listed, () =>
        table(
          ["RELEASE", "STATE", "PARENT", "GENERATION", "CREATED", "ACTIVATED"],
          listed.releases.map((r) => [
            r.id,
            r.state,
            r.parent ?? "-",
            String(r.generation),
            r.created_at,
            r.activated_at ?? "-",
          ]),
        ),
      );
    });

  release
    .command("show")
    .description("show a release: its dists, signatures and package counts")
    .argument("<release>", "release id, e.g. r3")
    .addHelpText("after", "\nExample:\n  armor release show --repository acme/tools r3")
    .action(async (id: string, _options: unknown, command: Command) => {
      const ctx = new CommandContext(command, io);
      const rid = parseOption(ReleaseIdSchema, id, "release");
      const shown = await ctx.client.json(ctx.client.repo(ctx.repository, `/releases/${rid}`), ReleaseDetailSchema);
      ctx.out.result(shown, () =>
        [
          `release ${shown.id}: ${shown.state}, generation ${shown.generation}, parent ${shown.parent ?? "none"}`,
          table(
            ["DIST", "CHANGED", "SIGNED BY"],
            shown.dists.map((d) => [d.dist, d.changed ? "yes" : "no", d.signed_by ?? "-"]),
          ),
          table(
            ["DIST", "COMPONENT", "ARCH", "PACKAGES"],
            shown.counts.map((c) => [c.dist, c.component, c.architecture, String(c.count)]),
          ),
          shown.unsigned_dists.length > 0 ? `waiting for signatures: ${shown.unsigned_dists.join(", ")}` : "",
        ]
          .filter((x) => x !== "")
          .join("\n\n"),
      );
    });

  release
    .command("diff")
    .description("packages added and removed between two releases")
    .argument("<from>", "older release")
    .argument("<to>", "newer release")
    .addHelpText("after", "\nExample:\n  armor release diff --repository acme/tools r2 r3")
    .action(async (from: string, to: string, _options: unknown, command: Command) => {
      const ctx = new CommandContext(command, io);
      const a = parseOption(ReleaseIdSchema, from, "from");
      const b = parseOption(ReleaseIdSchema, to, "to");
      const diff = await ctx.client.json(
        ctx.client.repo(ctx.repository, `/releases/${a}/diff/${b}`),
        ReleaseDiffSchema,
      );
      const line = (sign: string, p: MemberSummary) =>
        `${sign} ${p.dist}/${p.component} ${p.name} ${p.version} ${p.architecture}`;
      ctx.out.result(diff, () =>
        [
          ...diff.added.map((p) => line("+", p)),
          ...diff.removed.map((p) => line("-", p)),
          `${diff.added_count} added, ${diff.removed_count} removed`,
        ].join("\n"),
      );
    });

  addWaitFlag(
    release
      .command("activate")
      .description(
        "serve a release: an open one whose changed dists are signed, or an older one (rollback); also retries a pending activation's pointer at the edge",
      )
      .argument("<release>", "release id"),
  )
    .addHelpText(
      "after",
      "\nExample:\n  armor release activate --repository acme/tools r2   # apt clients that saw a newer release keep it: see armor release rollback",
    )
    .action(async (id: string, options: { wait: string }, command: Command) => {
      const ctx = new CommandContext(command, io);
      const rid = parseOption(ReleaseIdSchema, id, "release");
      const wait = waitSeconds(options.wait);
      const repository = ctx.repository;
      let done: ActivatedRelease;
      try {
        done = await ctx.client.json(ctx.client.repo(repository, `/releases/${rid}/activate`), ActivatedReleaseSchema, {
          method: "POST",
        });
      } catch (error) {
        const pending = pendingRelease(error);
        if (pending === null) throw error;
        const served = await awaitEdge(ctx, repository, pending, wait);
        done = { release: pending, previous: served?.previous ?? null, activated_at: served?.requested_at ?? "" };
      }
      await awaitEdge(ctx, repository, done.release, wait);
      ctx.out.result(done, () => `release ${done.release} is active${done.previous ? ` (was ${done.previous})` : ""}`);
    });

  registerRollback(release, io);
}

/** `armor release rollback`: the rollback apt clients actually follow. */
export function registerRollback(release: Command, io: Io): void {
  addWaitFlag(
    addSigningFlags(
      release
        .command("rollback")
        .description(
          "serve an older release's packages again, newly signed: apt ignores a Release dated before the one it has, so a plain `release activate` only reaches clients that never saw the newer one",
        )
        .argument("<release>", "the release whose contents to restore"),
    ),
  )
    .addHelpText("after", "\nExample:\n  armor release rollback --repository acme/tools r2 --key-file key.asc")
    .action(async (id: string, flags: SigningFlags & { wait: string }, command: Command) => {
      const ctx = new CommandContext(command, io);
      const rid = parseOption(ReleaseIdSchema, id, "release");
      const wait = waitSeconds(flags.wait);
      const repository = ctx.repository;
      const created = await ctx.client.json(ctx.client.repo(repository, "/releases"), ReleaseSummarySchema, {
        json: { from: rid, resign: true },
      });
      const shown = await ctx.client.json(ctx.client.repo(repository, `/releases/${created.id}`), ReleaseDetailSchema);
      const dists = shown.dists.map((d) => d.dist);
      const outcome = await publishDists(ctx, repository, dists, signOptions(ctx, flags), {
        retries: 8,
        activate: true,
      });
      await awaitEdge(ctx, repository, created.id, wait);
      ctx.out.result(
        { repository, release: created.id, from: rid, ...outcome },
        () => `release ${created.id} (the contents of ${rid}, newly signed) is active`,
      );
    });
}
