/**
 * generate → sign → upload for a set of dists, as `armor publish` and `armor release rollback` do
 * it: when another publisher changed or activated the release meanwhile (stale_generation,
 * release_immutable), generate again, up to `retries` times.
 */
import { formatIndexDocument, parseIndexDocument, UnsignedIndexDocumentSchema } from "../schema/index-document.ts";
import type { Generated } from "./commands/index-generate.ts";
import type { Submitted } from "./commands/index-upload.ts";
import type { CommandContext } from "./context.ts";
import { ServerError } from "./errors.ts";
import type { SignOptions } from "./signing.ts";

export type PublishOutcome = { published: true; dists: Submitted[] } | { published: false; reason: "no_open_release" };

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
        const generated = await ctx.client.json<Generated>(ctx.client.repo(repository, `/dists/${dist}/generate`), {
          method: "POST",
        });
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
          await ctx.client.json<Submitted>(ctx.client.repo(repository, `/dists/${dist}/signed${query}`), {
            method: "POST",
            body: text,
            headers: { "content-type": "application/toml" },
          }),
        );
      }
      return { published: true, dists: results };
    } catch (error) {
      // Someone else's publish already activated everything: nothing is left to do.
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
