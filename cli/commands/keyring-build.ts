import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { CommandContext } from "../context.ts";
import { UserError } from "../errors.ts";
import type { Io } from "../output.ts";

export function register(program: Command, io: Io): void {
  program
    .command("keyring")
    .description("the archive keyring package")
    .command("build")
    .description("write a {name}-archive-keyring .deb holding the repository's trusted public keys")
    .option("--name <name>", "package name prefix (default: owner-name of the repository)")
    .option(
      "--pkg-version <version>",
      "package version (default: when the key set last changed, e.g. 2026.11.22.143005)",
    )
    .option("--output <dir>", "directory to write the .deb to", ".")
    .addHelpText(
      "after",
      "\nExample:\n  armor keyring build --repository acme/tools && armor pkgs add --repository acme/tools --dist stable ./acme-tools-archive-keyring_*.deb",
    )
    .action(async (options: { name?: string; pkgVersion?: string; output: string }, command: Command) => {
      const ctx = new CommandContext(command, io);
      // The keyring is read by path on the platform host, which names repositories by owner/name.
      const repository = await ctx.repositoryId();
      const res = await ctx.client.request(`/${repository}/archive-keyring.asc`, { allow: [404] });
      if (res.status === 404) {
        await res.body?.cancel();
        throw new UserError(`${repository} has no trusted keys`, { hint: "add one with armor key add" });
      }
      const armored = await res.text();
      const keys = armored.split(/(?=-----BEGIN PGP PUBLIC KEY BLOCK-----)/).filter((k) => k.trim() !== "");
      // The version is when the key set last changed (the keyring's Last-Modified, UTC, to the
      // second): it grows with every change, so a second build on one day after a change is a new
      // version, and a build with nothing changed is the same one.
      const changed = new Date(res.headers.get("last-modified") ?? Date.now());
      const stamp = Number.isNaN(changed.getTime()) ? new Date() : changed;
      const version = stamp.toISOString().slice(0, 19).replace("T", ".").replaceAll("-", ".").replaceAll(":", "");
      const { buildKeyringDeb } = await import("../keyring-deb.ts");
      const built = await buildKeyringDeb({
        name: options.name ?? repository.replace("/", "-"),
        version: options.pkgVersion ?? version,
        keys,
        omitRevoked: true,
      });
      const path = join(options.output, built.fileName);
      writeFileSync(path, built.bytes);
      for (const fingerprint of built.omitted) ctx.out.log(`left out ${fingerprint}: it is revoked`);
      ctx.out.result(
        { file: path, size: built.bytes.length, keys: built.included.length, omitted: built.omitted },
        () => `wrote ${path} (${built.included.length} ${built.included.length === 1 ? "key" : "keys"})`,
      );
    });
}
