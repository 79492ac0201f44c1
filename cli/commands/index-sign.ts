import type { Command } from "commander";
import { formatIndexDocument, UnsignedIndexDocumentSchema } from "../../schema/index-document.ts";
import { CommandContext } from "../context.ts";
import { readDocument } from "../documents.ts";
import type { Io } from "../output.ts";
import { addSigningFlags, type SigningFlags, signOptions } from "./signing-options.ts";

export function register(index: Command, io: Io): void {
  addSigningFlags(
    index
      .command("sign")
      .description("sign an unsigned document locally (InRelease + Release.gpg); the key never leaves this machine")
      .argument("<file>", "the unsigned document (`-` for stdin)"),
  )
    .addHelpText("after", "\nExample:\n  armor index sign --key=0xC409…5C ./unsigned.toml > signed.toml")
    .action(async (file: string, flags: SigningFlags, command: Command) => {
      const ctx = new CommandContext(command, io);
      const { checkReleaseText, signRelease } = await import("../signing.ts");
      const doc = readDocument(file, UnsignedIndexDocumentSchema, "unsigned");
      checkReleaseText(doc.release_text);
      ctx.out.debug(
        `signing the Release of ${doc.repository} ${doc.dist} (release ${doc.release}, generation ${doc.generation}):\n${doc.release_text}`,
      );
      const signed = await signRelease(doc.release_text, signOptions(ctx, flags));
      const text = formatIndexDocument({
        ...doc,
        inrelease: signed.inrelease,
        release_gpg: signed.releaseGpg,
        fingerprint: signed.fingerprint,
      });
      if (ctx.out.json) ctx.out.result({ document: text, fingerprint: signed.fingerprint }, () => "");
      else {
        ctx.out.document(text);
        ctx.out.log(`signed with ${signed.fingerprint}`);
      }
    });
}
