/** What every command needs: settings merged from flags/env/file, the output, and the API client. */
import type { Command } from "commander";
import { RepositoryRefSchema } from "../schema/index-document.ts";
import { RepositoryInfoSchema } from "../schema/responses.ts";
import { ApiClient } from "./client.ts";
import { resolveSettings, type Settings } from "./config.ts";
import { EXIT, UserError } from "./errors.ts";
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
    this.#client ??= new ApiClient({
      endpoint: this.settings.endpoint,
      token: this.settings.token,
      onRetry: (message) => this.io.stderr.write(`armor: ${message}\n`),
    });
    return this.#client;
  }

  /**
   * The repository to act on (--repository, ARMOR_REPOSITORY or the config file), validated:
   * `owner/name` or a hostname it is served at. The API resolves either, so commands pass it on.
   */
  get repository(): string {
    const r = this.settings.repository;
    if (r === undefined) {
      throw new UserError("no repository given", {
        hint: "pass --repository owner/name (or a hostname it is served at) or set ARMOR_REPOSITORY",
      });
    }
    return parseRepositoryRef(r, "--repository");
  }

  /** The repository's `owner/name`, asking the server when it was named by a hostname. */
  async repositoryId(): Promise<string> {
    const ref = this.repository;
    if (ref.includes("/")) return ref;
    const info = await this.client.json(this.client.repo(ref), RepositoryInfoSchema);
    return info.id;
  }
}

/** A repository as a user names it: `owner/name` or a hostname; anything else is a user error (exit 2, usage). */
export function parseRepositoryRef(value: string, what: string): string {
  const parsed = RepositoryRefSchema.safeParse(value);
  if (!parsed.success) {
    throw new UserError(`${what} "${value}" ${parsed.error.issues[0]?.message ?? "is invalid"}`, {
      exitCode: EXIT.usage,
    });
  }
  return parsed.data;
}
