/**
 * Everything the CLI prints goes through here: results to stdout (JSON with `--json`, text
 * otherwise), logs and progress to stderr, errors in the same two shapes.
 */
import { ServerError, UserError } from "./errors.ts";

export interface Io {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
  /** Ask a question on the terminal without echo (passphrases); undefined when stdin is not a TTY. */
  prompt?: (question: string) => Promise<string>;
}

export class Output {
  readonly json: boolean;
  readonly verbose: boolean;
  readonly io: Io;

  constructor(io: Io, options: { json: boolean; verbose: boolean }) {
    this.io = io;
    this.json = options.json;
    this.verbose = options.verbose;
  }

  /** Progress bars only on a terminal, and never in JSON mode. */
  get interactive(): boolean {
    return !this.json && this.io.stderr.isTTY === true && this.io.env.CI !== "true";
  }

  /** The command's result: JSON, or the human rendering. */
  result(data: unknown, human: () => string): void {
    if (this.json) this.io.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    else {
      const text = human();
      if (text !== "") this.io.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
    }
  }

  /** A document meant for redirection (`> unsigned.toml`): printed as is, JSON mode or not. */
  document(text: string): void {
    this.io.stdout.write(text);
  }

  log(line: string): void {
    if (!this.json) this.io.stderr.write(`${line}\n`);
  }

  debug(line: string): void {
    if (this.verbose) this.io.stderr.write(`${line}\n`);
  }

  /** Render an error; returns the exit code. */
  error(error: unknown, exitCodes: { bug: number }): number {
    if (error instanceof UserError) {
      if (this.json)
        this.#jsonError(error.code, error.message, error.hint === undefined ? undefined : { hint: error.hint });
      else this.io.stderr.write(`error: ${error.message}\n${error.hint ? `hint: ${error.hint}\n` : ""}`);
      return error.exitCode;
    }
    if (error instanceof ServerError) {
      if (this.json) this.#jsonError(error.code, error.message, { status: error.status, ...error.details });
      else {
        const hint = hintFor(error);
        this.io.stderr.write(
          `error: ${error.message} (${error.code}, HTTP ${error.status})\n${hint ? `hint: ${hint}\n` : ""}`,
        );
      }
      return error.exitCode;
    }
    const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
    if (this.json) this.#jsonError("bug", error instanceof Error ? error.message : String(error), { stack });
    else this.io.stderr.write(`armor hit a bug; please report it with this output:\n${stack}\n`);
    return exitCodes.bug;
  }

  #jsonError(code: string, message: string, details?: Record<string, unknown>): void {
    this.io.stdout.write(`${JSON.stringify({ error: { code, message, ...(details ? { details } : {}) } }, null, 2)}\n`);
  }
}

function hintFor(error: ServerError): string | undefined {
  switch (error.code) {
    case "unauthorized":
      return "pass --token, set ARMOR_TOKEN, or run `armor login`";
    case "forbidden":
      return "this token lacks the role for that; ask a repository admin";
    case "stale_generation":
      return "run `armor index generate` again and sign the new document (`armor publish` does this for you)";
    case "untrusted_key":
      return "sign with a key `armor key list` shows as trusted, or add yours with `armor key add --repository R key.asc`";
    case "version_exists":
      return "bump the package version; this repository does not allow reusing a version";
    case "filename_exists":
      return "bump the upstream version or the Debian revision: versions that differ only in their epoch share one pool file";
    case "repository_not_found":
      return "check --repository (owner/name or a hostname it is served at); `armor repo list` shows what exists";
    default:
      return undefined;
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/** A plain text table: columns padded to their widest cell. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}
