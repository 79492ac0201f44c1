/**
 * How the CLI fails (STYLE.md "Errors"): a user's mistake is one line and a hint; a server refusal
 * shows the server's code and message; an unreachable or failing server says so; anything else is
 * a bug and prints its stack. Exit codes are part of the interface (README, "CLI").
 */

export const EXIT = {
  ok: 0,
  /** The user's mistake (a missing file, a wrong key) or a refusal by the server (4xx). */
  user: 1,
  /** Bad flags or arguments. */
  usage: 2,
  /**
   * The endpoint is unreachable or answered 5xx: retrying later may work. Also an activation the
   * edge does not serve yet (`activation_pending`): it completes later without the user.
   */
  unavailable: 3,
  /** A bug in armor (EX_SOFTWARE). */
  bug: 70,
} as const;

/** A mistake the user can fix: a short message and, when we know it, what to do. */
export class UserError extends Error {
  readonly hint: string | undefined;
  readonly code: string;
  readonly exitCode: number;

  constructor(message: string, options: { hint?: string; code?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "UserError";
    this.hint = options.hint;
    this.code = options.code ?? "user_error";
    this.exitCode = options.exitCode ?? EXIT.user;
  }
}

/** The server refused or failed a request; carries its error envelope. */
export class ServerError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(status: number, code: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = "ServerError";
    this.status = status;
    this.code = code;
    this.details = details;
  }

  get exitCode(): number {
    return this.status >= 500 ? EXIT.unavailable : EXIT.user;
  }
}
