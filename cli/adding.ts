/**
 * Upload `.deb` files and add them to a dist and component of the open release: what `armor pkgs
 * add` does, and what `armor publish --add` does before it publishes, in the same process.
 */
import { ADD_MAX } from "../schema/limits.ts";
import { type AddedPackages, AddedPackagesSchema, type MemberSummary } from "../schema/responses.ts";
import type { CommandContext } from "./context.ts";
import { type UploadedFile, uploadFiles } from "./uploads.ts";

export interface Added {
  release: string | undefined;
  generation: number | undefined;
  files: UploadedFile[];
  added: MemberSummary[];
}

/** Upload what the repository lacks (one lookup per LOOKUP_MAX files), then add every file, ADD_MAX per request. */
export async function addFiles(
  ctx: CommandContext,
  repository: string,
  target: { dist: string; component: string },
  files: string[],
  concurrency: number,
): Promise<Added> {
  const uploaded = await uploadFiles(ctx.client, repository, files, ctx.out, { concurrency });
  const hashes = [...new Set(uploaded.map((u) => u.sha256))];
  let result: AddedPackages | undefined;
  const added: MemberSummary[] = [];
  for (let i = 0; i < hashes.length; i += ADD_MAX) {
    result = await ctx.client.json(ctx.client.repo(repository, "/packages"), AddedPackagesSchema, {
      json: { ...target, packages: hashes.slice(i, i + ADD_MAX) },
    });
    added.push(...result.added);
  }
  return { release: result?.release, generation: result?.generation, files: uploaded, added };
}
