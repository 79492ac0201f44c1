/**
 * generate → sign → upload for a set of dists, as `armor publish` and `armor release rollback` do
 * it: when another publisher changed or activated the release meanwhile (stale_generation,
 * release_immutable), generate again, up to `retries` times. And what every command that
 * activates checks before it reports success (DESIGN.md §4b: a publish is done when the edge
 * serves it): `awaitEdge`.
 */
import type { Command } from "commander";
import { z } from "zod";
import { formatIndexDocument, parseIndexDocument, UnsignedIndexDocumentSchema } from "../schema/index-document.ts";
import {
  type ActivationLog,
  ActivationLogSchema,
  GeneratedSchema,
  type Submitted,
  SubmittedSchema,
} from "../schema/responses.ts";
import { parseOption } from "./commands/parse.ts";
import type { CommandContext } from "./context.ts";
import { EXIT, ServerError, UserError } from "./errors.ts";
import type { SignOptions } from "./signing.ts";

/**
 * `pending`: the release the last submit activated in the repository, whose pointer at the edge
 * was not written yet (503 activation_pending); `awaitEdge` tells whether it got there.
 */
export type PublishOutcome =
  | { published: true; dists: Submitted[]; pending: string | null }
  | { published: false; reason: "no_open_release" };

export async function publishDists(
  ctx: CommandContext,
  repository: string,
  dists: string[],
  options: SignOptions,
  settings: { retries: number; activate: boolean },
): Promise<PublishOutcome> {
  // openpgp.js is loaded here, not at start-up (it is most of the CLI's code, see cli/index.ts), and
  // with the key read while the server generates: the signer is ready when the first Release comes.
  const signer = import("./signing.ts").then((m) => m.prepareSigner(options));
  // Observed now, thrown when awaited: a key that cannot be used is reported after the generate it
  // overlapped, or not at all when there is nothing to sign.
  signer.catch(() => undefined);
  for (let attempt = 1; ; attempt++) {
    try {
      const results: Submitted[] = [];
      for (const dist of dists) {
        const generated = await ctx.client.json(
          ctx.client.repo(repository, `/dists/${dist}/generate`),
          GeneratedSchema,
          { method: "POST" },
        );
        const parsed = parseIndexDocument(generated.document, UnsignedIndexDocumentSchema);
        if (!parsed.ok) throw new Error(`the server sent an unreadable document: ${parsed.error.message}`);
        const doc = parsed.value;
        ctx.out.debug(`signing ${dist} (release ${doc.release}, generation ${doc.generation}):\n${doc.release_text}`);
        const signed = await (await signer).sign(doc.release_text);
        const text = formatIndexDocument({
          ...doc,
          inrelease: signed.inrelease,
          release_gpg: signed.releaseGpg,
          fingerprint: signed.fingerprint,
        });
        const query = settings.activate ? "" : "?activate=false";
        results.push(
          await ctx.client.json(ctx.client.repo(repository, `/dists/${dist}/signed${query}`), SubmittedSchema, {
            method: "POST",
            body: text,
            headers: { "content-type": "application/toml" },
          }),
        );
      }
      return { published: true, dists: results, pending: null };
    } catch (error) {
      const pending = pendingRelease(error);
      if (pending !== null) return { published: true, dists: [], pending };
      // Someone else's publish activated everything: nothing is left to do here, and whether the
      // edge serves it yet is for awaitEdge to say.
      if (error instanceof ServerError && error.code === "no_open_release")
        return { published: false, reason: "no_open_release" };
      const raced =
        error instanceof ServerError && (error.code === "stale_generation" || error.code === "release_immutable");
      if (!raced || attempt >= settings.retries) throw error;
      ctx.out.log(
        `the release changed while publishing (another upload or publish); generating again (attempt ${attempt + 1} of ${settings.retries})`,
      );
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 200 * attempt));
    }
  }
}

/** The release a `503 activation_pending` names: activated in the repository, not yet at the edge. */
export function pendingRelease(error: unknown): string | null {
  if (!(error instanceof ServerError) || error.code !== "activation_pending") return null;
  const release = error.details?.release;
  return typeof release === "string" ? release : null;
}

/** `--wait`, for the commands that activate a release. */
export function addWaitFlag(command: Command): Command {
  return command.option(
    "--wait <seconds>",
    "how long to wait for an activation to reach the edge before giving up (exit 3; it still completes later)",
    "15",
  );
}

const WaitSchema = z
  .string()
  .regex(/^\d+$/, { message: "must be a whole number of seconds" })
  .transform(Number)
  .pipe(z.number().max(3600, { message: "must be at most 3600 seconds" }));

/** The `--wait` flag's value, in seconds. */
export function waitSeconds(flag: string): number {
  return parseOption(WaitSchema, flag, "--wait");
}

type Activation = ActivationLog["activations"][number];

/**
 * Wait until the edge serves `release` (or, when null, the repository's newest activation): its
 * latest activation in the log has `visible_at`, which the repository sets once D1's pointer,
 * which every edge request reads, names the release. A later activation being visible makes
 * this one visible too: the repository marks every pending activation visible with the pointer
 * write that follows. Polled once a second for up to `seconds`; the repository's own alarm keeps
 * retrying the pointer meanwhile, and after.
 * @returns the activation now visible, or null when the repository never activated anything.
 * @throws UserError (exit 3, `activation_pending`) when it is still not visible.
 */
export async function awaitEdge(
  ctx: CommandContext,
  repository: string,
  release: string | null,
  seconds: number,
): Promise<Activation | null> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const log = await ctx.client.json(ctx.client.repo(repository, "/activations"), ActivationLogSchema);
    const entry = release === null ? log.activations[0] : log.activations.find((a) => a.release === release);
    if (entry === undefined) {
      if (release === null) return null;
      throw new Error(`release ${release} was activated but is not in ${repository}'s activation log`);
    }
    if (entry.visible_at !== null) return entry;
    if (Date.now() >= deadline) {
      const previous = entry.previous === null ? "no release (the repository served nothing before)" : entry.previous;
      throw new UserError(
        `release ${entry.release} is active in ${repository}, but the edge still serves ${previous}: writing the edge's pointer (D1) has not succeeded yet, so apt clients do not see it`,
        {
          code: "activation_pending",
          exitCode: EXIT.unavailable,
          hint: `nothing is lost: the repository retries the pointer on its own every few seconds; \`armor release activate ${entry.release} --repository ${repository}\` retries it now (admin role), and \`armor release list\` shows the active release`,
        },
      );
    }
    ctx.out.log(`waiting for the edge to serve release ${entry.release}…`);
    await new Promise((resolve) => setTimeout(resolve, Math.min(1000, Math.max(0, deadline - Date.now()))));
  }
}
