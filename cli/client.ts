/**
 * The one API client every command uses. It speaks the Worker's HTTP API, turns its error envelope
 * into `ServerError`, and retries what is worth retrying (network failures, 429, 502-504) with
 * exponential backoff and jitter, except a 503 `activation_pending`: that request took effect,
 * and the caller decides how to wait for the edge (publishing.ts `awaitEdge`). It never
 * re-implements server logic, and parses every answer with its schema.
 */
import type { z } from "zod";
import { EXIT, ServerError, UserError } from "./errors.ts";

export interface ClientOptions {
  endpoint: string | undefined;
  token: string | undefined;
  /** Attempts for retryable failures (default 4). */
  attempts?: number;
  fetch?: typeof fetch;
  /** Told of every retry before its wait, so a waiting command says what it waits for (stderr). */
  onRetry?: (message: string) => void;
}

/** A FormData body is replayable as it is: fetch encodes it afresh on every attempt. */
export type Body = string | Uint8Array | FormData | ReadableStream<Uint8Array> | (() => ReadableStream<Uint8Array>);

export interface RequestOptions {
  method?: string;
  /** JSON body (serialized), or raw bytes / form data / a stream factory (called once per attempt). */
  json?: unknown;
  body?: Body;
  headers?: Record<string, string>;
  /** Statuses to return instead of throwing (e.g. 404 for an existence check). */
  allow?: number[];
  /** No token needed (apt paths of public repositories, health checks). */
  anonymous?: boolean;
}

const RETRYABLE = new Set([429, 502, 503, 504]);

export class ApiClient {
  readonly endpoint: string;
  readonly #token: string | undefined;
  readonly #attempts: number;
  readonly #fetch: typeof fetch;
  readonly #onRetry: (message: string) => void;

  constructor(options: ClientOptions) {
    if (!options.endpoint) {
      throw new UserError("no endpoint configured", {
        hint: "pass --endpoint, set ARMOR_ENDPOINT, or run `armor login --endpoint URL`",
      });
    }
    this.endpoint = options.endpoint.replace(/\/+$/, "");
    this.#token = options.token;
    this.#attempts = options.attempts ?? 4;
    this.#fetch = options.fetch ?? fetch;
    this.#onRetry = options.onRetry ?? (() => undefined);
  }

  /** Send a request; returns the response for allowed statuses and 2xx, throws ServerError otherwise. */
  async request(path: string, options: RequestOptions = {}): Promise<Response> {
    const url = `${this.endpoint}${path}`;
    const headers = new Headers(options.headers);
    if (!options.anonymous) {
      if (!this.#token) {
        throw new UserError("no API token configured", {
          hint: "pass --token, set ARMOR_TOKEN, or run `armor login`",
        });
      }
      headers.set("authorization", `Bearer ${this.#token}`);
    }
    if (options.json !== undefined) headers.set("content-type", "application/json");
    headers.set("user-agent", "armor-cli");
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.#attempts; attempt++) {
      const body =
        options.json !== undefined
          ? JSON.stringify(options.json)
          : typeof options.body === "function"
            ? options.body()
            : options.body;
      let res: Response;
      try {
        res = await this.#fetch(url, {
          method: options.method ?? (body === undefined ? "GET" : "POST"),
          headers,
          body,
          ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
        } as RequestInit);
      } catch (cause) {
        lastError = cause;
        // A stream body cannot be replayed unless it comes from a factory.
        if (body instanceof ReadableStream && typeof options.body !== "function") break;
        if (attempt < this.#attempts) {
          const wait = backoffMs(attempt);
          this.#onRetry(
            `${this.endpoint} did not answer (${describeNetworkError(cause)}); retrying in ${seconds(wait)} (attempt ${attempt + 1} of ${this.#attempts})`,
          );
          await sleep(wait);
        }
        continue;
      }
      if (res.ok || options.allow?.includes(res.status)) return res;
      if (RETRYABLE.has(res.status) && attempt < this.#attempts && replayable(options)) {
        const error = await serverError(res);
        // Done, only not visible at the edge yet: sent again, a submit would find its release
        // already active and answer as if someone else had published it.
        if (error.code === "activation_pending") throw error;
        const wait = backoffMs(attempt, res.headers.get("retry-after"));
        this.#onRetry(
          `${options.method ?? (body === undefined ? "GET" : "POST")} ${path}: ${describeError(error)}; retrying in ${seconds(wait)} (attempt ${attempt + 1} of ${this.#attempts})`,
        );
        await sleep(wait);
        continue;
      }
      throw await serverError(res);
    }
    throw new UserError(`cannot reach ${this.endpoint}: ${describeNetworkError(lastError)}`, {
      hint: "check --endpoint / ARMOR_ENDPOINT and your network",
      code: "unreachable",
      exitCode: EXIT.unavailable,
      cause: lastError,
    });
  }

  /**
   * Send a request and parse its JSON answer with `schema` (schema/responses.ts, schema/sidecar.ts):
   * an answer is checked, never cast. One that does not match is a bug (or a server of another
   * version), not the user's mistake.
   */
  async json<S extends z.ZodType>(path: string, schema: S, options: RequestOptions = {}): Promise<z.infer<S>> {
    const res = await this.request(path, options);
    const parsed = schema.safeParse(await res.json());
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? "" : ` at ${issue.path.join(".")}`;
    const method = options.method ?? (options.json === undefined && options.body === undefined ? "GET" : "POST");
    throw new Error(
      `the answer to ${method} ${path} is not what armor expects${where}: ${issue?.message ?? "invalid"}`,
      {
        cause: parsed.error,
      },
    );
  }

  /**
   * The answer, parsed with its schema from `schema/` (STYLE.md: the CLI never casts an answer).
   * One that does not match is an incompatible server or a bug: an error with the first issue.
   */
  async parsed<S extends z.ZodType>(schema: S, path: string, options: RequestOptions = {}): Promise<z.infer<S>> {
    const res = await this.request(path, options);
    const parsed = schema.safeParse(await res.json());
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    const method = options.method ?? (options.json === undefined && options.body === undefined ? "GET" : "POST");
    throw new Error(
      `the server's answer to ${method} ${path} is not what this armor expects (${issue?.path.join(".") || "answer"}: ${issue?.message ?? "invalid"}); is the server the same version?`,
      { cause: parsed.error },
    );
  }

  /** Paths below a repository, named by owner/name or a hostname: /api/v1/repositories/{repository}{path}. */
  repo(repository: string, path = ""): string {
    return `/api/v1/repositories/${repository}${path}`;
  }
}

function replayable(options: RequestOptions): boolean {
  return !(options.body instanceof ReadableStream);
}

async function serverError(res: Response): Promise<ServerError> {
  const text = await res.text();
  try {
    const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; details?: unknown } };
    const e = parsed.error;
    if (e && typeof e.code === "string" && typeof e.message === "string") {
      const details =
        typeof e.details === "object" && e.details !== null ? (e.details as Record<string, unknown>) : undefined;
      return new ServerError(res.status, e.code, e.message, details);
    }
  } catch {
    // Not our envelope (a proxy's error page): fall through.
  }
  return new ServerError(res.status, `http_${res.status}`, `${res.status} ${res.statusText}: ${text.slice(0, 200)}`);
}

/** How long to wait before another attempt: the server's Retry-After, else exponential, with jitter. */
function backoffMs(attempt: number, retryAfter?: string | null): number {
  const asked = retryAfter ? Number(retryAfter) * 1000 : Number.NaN;
  const base = Number.isFinite(asked) ? Math.min(asked, 30_000) : Math.min(250 * 2 ** (attempt - 1), 8000);
  return base + Math.random() * base * 0.5;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** A retryable answer in a few words: its status, and the server's code and message when it sent them. */
function describeError(error: ServerError): string {
  return `HTTP ${error.status} ${error.code} (${error.message})`;
}

function describeNetworkError(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause;
    if (cause instanceof Error) return "code" in cause ? `${String(cause.code)} (${cause.message})` : cause.message;
    return error.message;
  }
  return String(error);
}
