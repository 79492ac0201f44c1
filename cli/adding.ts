/**
 * Upload `.deb` files and add them to a dist and component of the open release: what `armor pkgs
 * add` does, and what `armor publish --add` does before it publishes, in the same process.
 */
import type { CommandContext } from "./context.ts";
import { type UploadedFile, uploadFiles } from "./uploads.ts";

export interface Added {
  release: string | undefined;
  generation: number | undefined;
  files: UploadedFile[];
  added: { name: string; version: string; architecture: string }[];
}

interface AddResult {
  release: string;
  generation: number;
  added: { name: string; version: string; architecture: string }[];
  unchanged: unknown[];
}

/** Upload what the repository lacks (one lookup per 1000 files), then add every file, 1000 per request. */
export async function addFiles(
  ctx: CommandContext,
  repository: string,
  target: { dist: string; component: string },
  files: string[],
  concurrency: number,
): Promise<Added> {
  const uploaded = await uploadFiles(ctx.client, repository, files, ctx.out, { concurrency });
  const hashes = [...new Set(uploaded.map((u) => u.sha256))];
  let result: AddResult | undefined;
  const added: AddResult["added"] = [];
  for (let i = 0; i < hashes.length; i += 1000) {
    result = await ctx.client.json<AddResult>(ctx.client.repo(repository, "/packages"), {
      json: { ...target, packages: hashes.slice(i, i + 1000) },
    });
    added.push(...result.added);
  }
  return { release: result?.release, generation: result?.generation, files: uploaded, added };
}
