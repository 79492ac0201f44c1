/** What every command needs: settings merged from flags/env/file, the output, and the API client. */
import type { Command } from "commander";
import { RepositoryIdSchema } from "../schema/index-document.ts";
import { ApiClient } from "./client.ts";
import { resolveSettings, type Settings } from "./config.ts";
import { UserError } from "./errors.ts";
import { type Io, Output } from "./output.ts";

export interface GlobalOptions {
  endpoint?: string;
  token?: string;
  config?: string;
  repository?: string;
  json?: boolean;
  verbose?: boolean;
}

export class CommandContext {
  readonly settings: Settings;
  readonly out: Output;
  readonly io: Io;
  #client: ApiClient | undefined;

  constructor(command: Command, io: Io) {
    const options = command.optsWithGlobals<GlobalOptions>();
    this.io = io;
    this.out = new Output(io, { json: options.json === true, verbose: options.verbose === true });
    this.settings = resolveSettings(options, io.env);
  }

  get client(): ApiClient {
    this.#client ??= new ApiClient({ endpoint: this.settings.endpoint, token: this.settings.token });
    return this.#client;
  }

  /** The repository to act on (--repository, ARMOR_REPOSITORY or the config file), validated. */
  get repository(): string {
    const r = this.settings.repository;
    if (r === undefined) {
      throw new UserError("no repository given", { hint: "pass --repository owner/name or set ARMOR_REPOSITORY" });
    }
    const parsed = RepositoryIdSchema.safeParse(r);
    if (!parsed.success) throw new UserError(`--repository "${r}" ${parsed.error.issues[0]?.message ?? "is invalid"}`);
    return parsed.data;
  }
}
