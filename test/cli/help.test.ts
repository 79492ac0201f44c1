import type { Command } from "commander";
import { describe, it } from "vitest";
import { buildProgram } from "../../cli/index.ts";

function leaves(command: Command, path: string[] = []): { path: string; command: Command }[] {
  return command.commands.flatMap((c) =>
    c.commands.length > 0 ? leaves(c, [...path, c.name()]) : [{ path: [...path, c.name()].join(" "), command: c }],
  );
}

describe("armor --help", () => {
  const io = { stdout: { write: () => true }, stderr: { write: () => true }, env: {} };
  it.for(leaves(buildProgram(io)).map((l) => l.path))(
    "armor %s --help shows a description and an example",
    (path, { expect }) => {
      const command = leaves(buildProgram(io)).find((l) => l.path === path)?.command;
      let help = "";
      command?.configureOutput({ writeOut: (t) => (help += t) }).outputHelp();
      expect(command?.description()).not.toBe("");
      expect(help).toMatch(/\nExamples?:\n {2}(armor|gpg|echo|ARMOR_)/);
      // The global options its examples use are listed under the command's own.
      expect(help).toMatch(/\nGlobal Options:\n/);
      for (const option of ["--repository", "--endpoint", "--token", "--json"]) expect(help).toContain(option);
    },
  );
});
