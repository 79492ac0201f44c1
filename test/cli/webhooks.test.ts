/**
 * Webhooks end to end (issue 20): the real Worker with its queue consumer (wrangler's test
 * harness runs the `[[queues.consumers]]` of wrangler.toml), the real armor CLI, and a real
 * receiver on 127.0.0.1 that verifies every signature with node:crypto as a GitHub-style receiver
 * would. A receiver that fails is retried with the same X-Armor-Delivery, and `armor webhook
 * deliveries` lists every attempt.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, inject, it } from "vitest";
import { DeliveryListSchema, type WebhookPayload, WebhookPayloadSchema, WebhookSchema } from "../../schema/webhooks.ts";
import { type LocalStack, startLocalStack } from "../helpers/local-stack.ts";
import { armor, writeDeb } from "./armor.ts";

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
  /** What the receiver answered. */
  status: number;
}

/** A webhook receiver: records every request; a path's responder decides the status (200 by default). */
class Receiver {
  readonly received: Received[] = [];
  readonly #responders = new Map<string, (r: Received) => number>();
  #server: Server | undefined;
  port = 0;

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const r: Received = {
          path: req.url ?? "",
          headers: req.headers,
          body: Buffer.concat(chunks).toString("utf8"),
          at: Date.now(),
          status: 200,
        };
        r.status = this.#responders.get(r.path)?.(r) ?? 200;
        this.received.push(r);
        res.writeHead(r.status, { "content-type": "text/plain" }).end(r.status === 200 ? "ok" : "receiver is down");
      });
    });
    this.#server = server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("the receiver has no TCP address");
    this.port = address.port;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  respond(path: string, responder: (r: Received) => number): void {
    this.#responders.set(path, responder);
  }

  at(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  async close(): Promise<void> {
    await new Promise((resolve) => this.#server?.close(resolve));
  }
}

/** Verify X-Armor-Signature as a receiver would: HMAC-SHA256 of the raw body, compared in constant time. */
function verified(r: Received, secret: string): boolean {
  const header = String(r.headers["x-armor-signature"] ?? "");
  const expected = `sha256=${createHmac("sha256", secret).update(r.body).digest("hex")}`;
  return header.length === expected.length && timingSafeEqual(Buffer.from(header), Buffer.from(expected));
}

function payloadOf(r: Received): WebhookPayload {
  return WebhookPayloadSchema.parse(JSON.parse(r.body));
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms = 25_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

let stack: LocalStack;
let receiver: Receiver;
let work: string;
let env: Record<string, string>;

beforeAll(async () => {
  receiver = new Receiver();
  await receiver.start();
  stack = await startLocalStack();
  work = mkdtempSync(join(tmpdir(), "armor-webhooks-"));
  env = { ARMOR_ENDPOINT: stack.endpoint, ARMOR_TOKEN: stack.token, ARMOR_SIGNING_KEY: inject("keys").trusted.secret };
}, 120_000);

afterAll(async () => {
  await stack?.close();
  await receiver?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function ok(args: string[]): Promise<string> {
  const ran = await armor(args, env);
  if (ran.code !== 0) throw new Error(`armor ${args.join(" ")} exited ${ran.code}: ${ran.stderr}${ran.stdout}`);
  return ran.stdout;
}

async function createRepo(repo: string): Promise<void> {
  await ok(["repo", "create", repo]);
}

async function trustKey(repo: string): Promise<void> {
  const pub = join(work, `${repo.replace("/", "-")}.asc`);
  writeFileSync(pub, inject("keys").trusted.public);
  await ok(["key", "add", "--repository", repo, pub]);
}

async function addHook(repo: string, path: string, secret: string, events: string[] = []) {
  const args = ["webhook", "add", "--repository", repo, "--url", receiver.url(path), "--secret", secret, "--json"];
  for (const e of events) args.push("--event", e);
  return WebhookSchema.parse(JSON.parse(await ok(args)));
}

async function publish(repo: string, name: string, version: string): Promise<void> {
  const dir = mkdtempSync(join(work, "debs-"));
  const deb = writeDeb(dir, name, version);
  await ok(["publish", "--repository", repo, "--dist", "stable", "--add", deb]);
}

describe("webhooks against a real receiver", () => {
  it("delivers key.added, package.added and release.activated, signed with the webhook's secret", async ({
    expect,
  }) => {
    const repo = "hooks/signed";
    const secret = "the-receivers-shared-secret-1";
    await createRepo(repo);
    const hook = await addHook(repo, "/signed", secret);
    expect(hook.events).toEqual(["package.added", "package.removed", "release.activated", "key.added", "key.removed"]);
    await trustKey(repo);
    await publish(repo, "signed-tool", "1.0");

    const events = await until("three events at /signed", () => {
      const got = receiver.at("/signed");
      const names = new Set(got.map((r) => r.headers["x-armor-event"]));
      return ["key.added", "package.added", "release.activated"].every((e) => names.has(e)) ? got : undefined;
    });
    for (const r of events) {
      expect(verified(r, secret), r.body).toBe(true);
      expect(verified(r, "another-secret-entirely"), r.body).toBe(false);
      expect(r.headers["content-type"]).toBe("application/json");
      expect(r.headers["x-armor-delivery"]).toMatch(/^[0-9a-f-]{36}$/);
      const payload = payloadOf(r);
      expect(payload.event).toBe(r.headers["x-armor-event"]);
      expect(payload.repository).toBe(repo);
      expect(Date.parse(payload.time)).toBeGreaterThan(Date.now() - 120_000);
    }
    const byEvent = (e: string) => {
      const r = events.find((x) => x.headers["x-armor-event"] === e);
      if (r === undefined) throw new Error(`no ${e} received`);
      return payloadOf(r);
    };
    const added = byEvent("package.added");
    expect(added.event === "package.added" && added.data).toMatchObject({
      release: "r1",
      dist: "stable",
      component: "main",
      count: 1,
      truncated: false,
      packages: [
        { name: "signed-tool", version: "1.0", architecture: "amd64", filename: expect.stringContaining("pool/") },
      ],
    });
    const activated = byEvent("release.activated");
    expect(activated.event === "release.activated" && activated.data).toMatchObject({
      release: "r1",
      previous: null,
      rollback: false,
      dists: ["stable"],
      packages: { added: [{ name: "signed-tool", version: "1.0" }], removed: [], added_count: 1, removed_count: 0 },
    });
    const key = byEvent("key.added");
    expect(key.event === "key.added" && key.data.key.fingerprint).toBe(inject("keys").trusted.fingerprint);

    // A ping through `armor webhook test`, which waits for the receiver's answer.
    const tested = await armor(["webhook", "test", "--repository", repo, hook.id], env);
    expect(tested.code, tested.stderr).toBe(0);
    expect(tested.stdout).toMatch(/ping delivered \(delivery [0-9a-f-]{36}\): HTTP 200 in \d+ ms/);
    const ping = receiver.at("/signed").find((r) => r.headers["x-armor-event"] === "ping");
    expect(ping && verified(ping, secret)).toBe(true);
    expect(ping && payloadOf(ping).data).toEqual({
      webhook: hook.id,
      url: receiver.url("/signed"),
      events: hook.events,
    });
  });

  it("retries a failing receiver with the same delivery id, and lists both attempts", async ({ expect }) => {
    const repo = "hooks/retried";
    const secret = "the-flaky-receivers-secret-2";
    await createRepo(repo);
    await trustKey(repo);
    // Down for the first attempt at each delivery, up from then on.
    const seen = new Set<string>();
    receiver.respond("/flaky", (r) => {
      const id = String(r.headers["x-armor-delivery"]);
      if (seen.has(id)) return 200;
      seen.add(id);
      return 500;
    });
    const hook = await addHook(repo, "/flaky", secret, ["release.activated"]);
    expect(hook.events).toEqual(["release.activated"]);
    const started = Date.now();
    await publish(repo, "flaky-tool", "1.0");
    // Publishing did not wait for the receiver: it answered before the retry could happen.
    const [first, second] = await until("a retry at /flaky", () => {
      const got = receiver.at("/flaky");
      return got.length >= 2 ? got : undefined;
    });
    if (first === undefined || second === undefined) throw new Error("two requests expected");
    expect(first.status).toBe(500);
    expect(second.status).toBe(200);
    expect(second.headers["x-armor-delivery"]).toBe(first.headers["x-armor-delivery"]);
    expect(second.body).toBe(first.body);
    expect(verified(second, secret)).toBe(true);
    // The first retry comes within 10 s of the first attempt (plus the queue's batching).
    expect(second.at - first.at).toBeGreaterThanOrEqual(4_000);
    expect(second.at - first.at).toBeLessThan(12_000);
    expect(second.at - started).toBeLessThan(25_000);
    expect(receiver.at("/flaky").every((r) => r.headers["x-armor-event"] === "release.activated")).toBe(true);

    const listed = await until("the second attempt recorded", async () => {
      const out = DeliveryListSchema.parse(
        JSON.parse(await ok(["webhook", "deliveries", "--repository", repo, hook.id, "--json"])),
      );
      return out.deliveries[0]?.state === "delivered" ? out : undefined;
    });
    expect(listed.deliveries).toHaveLength(1);
    const delivery = listed.deliveries[0];
    expect(delivery).toMatchObject({ id: first.headers["x-armor-delivery"], event: "release.activated" });
    expect(delivery?.attempts).toEqual([
      { at: expect.any(String), status: 500, duration_ms: expect.any(Number), error: "HTTP 500: receiver is down" },
      { at: expect.any(String), status: 200, duration_ms: expect.any(Number), error: null },
    ]);
    const text = await ok(["webhook", "deliveries", "--repository", repo, hook.id]);
    expect(text).toMatch(/release\.activated\s+delivered\s+1\s+\S+\s+500\s+\d+ ms\s+HTTP 500: receiver is down/);
    expect(text).toMatch(/release\.activated\s+delivered\s+2\s+\S+\s+200\s+\d+ ms\s+ok/);
  }, 60_000);

  it("says when an activation is a rollback, with the packages that changed", async ({ expect }) => {
    const repo = "hooks/rollback";
    await createRepo(repo);
    await trustKey(repo);
    await publish(repo, "tool", "1.0");
    await addHook(repo, "/rollback", "the-rollback-receivers-secret", ["release.activated"]);
    await publish(repo, "tool", "2.0");
    await ok(["release", "activate", "--repository", repo, "r1"]);
    const [forward, back] = await until("two activations at /rollback", () => {
      const got = receiver.at("/rollback").map(payloadOf);
      return got.length >= 2 ? got.sort((a, b) => a.time.localeCompare(b.time)) : undefined;
    });
    expect(forward?.data).toMatchObject({
      release: "r2",
      previous: "r1",
      rollback: false,
      dists: ["stable"],
      // Both versions are in r2's stable (apt picks the newer); r1 had only 1.0.
      packages: { added: [{ name: "tool", version: "2.0" }], removed: [], added_count: 1, removed_count: 0 },
    });
    expect(back?.data).toMatchObject({
      release: "r1",
      previous: "r2",
      rollback: true,
      dists: ["stable"],
      packages: { added: [], removed: [{ name: "tool", version: "2.0" }], added_count: 0, removed_count: 1 },
    });
  });

  it("sends release.activated once the edge serves the release, and once only", async ({ expect }) => {
    const repo = "hooks/pending";
    await createRepo(repo);
    await trustKey(repo);
    const hook = await addHook(repo, "/pending", "the-pending-receivers-secret", ["release.activated"]);
    const deliveries = async () =>
      DeliveryListSchema.parse(JSON.parse(await ok(["webhook", "deliveries", "--repository", repo, hook.id, "--json"])))
        .deliveries;
    // D1 refuses to move the edge's pointer, as during an outage: r1 is active in the repository
    // only (cli.test.ts does the same to the publish flow).
    const trigger = "webhooks_pointer_down";
    await stack.d1(
      `CREATE TRIGGER ${trigger} BEFORE UPDATE OF active_release ON repositories WHEN NEW.id = '${repo}'
       BEGIN SELECT RAISE(ABORT, 'D1 is down (test)'); END`,
    );
    try {
      const dir = mkdtempSync(join(work, "debs-"));
      const pending = await armor(
        ["publish", "--repository", repo, "--dist", "stable", "--wait", "0", "--add", writeDeb(dir, "late", "1.0")],
        env,
      );
      expect(pending.code, pending.stderr).toBe(3);
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      expect(receiver.at("/pending")).toEqual([]);
      expect(await deliveries()).toEqual([]);
    } finally {
      await stack.d1(`DROP TRIGGER ${trigger}`);
    }
    // The repository's alarm writes the pointer; then the event goes out.
    const [sent] = await until(
      "release.activated at /pending",
      () => {
        const got = receiver.at("/pending");
        return got.length > 0 ? got : undefined;
      },
      40_000,
    );
    const payload = sent === undefined ? undefined : payloadOf(sent);
    if (payload?.event !== "release.activated") throw new Error("release.activated expected");
    expect(payload.data).toMatchObject({ release: "r1", previous: null, rollback: false });
    expect(Date.parse(payload.data.visible_at)).toBeGreaterThan(Date.parse(payload.data.activated_at));
    // Activating the active release again changes nothing, and reports nothing.
    expect((await armor(["release", "activate", "--repository", repo, "r1"], env)).code).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    expect(receiver.at("/pending")).toHaveLength(1);
    expect(await deliveries()).toHaveLength(1);
  }, 90_000);

  it("manages webhooks from the CLI: list, remove, a refused URL, and never a secret", async ({ expect }) => {
    const repo = "hooks/cli";
    const secret = "a-secret-the-cli-never-prints";
    await createRepo(repo);
    const hook = await addHook(repo, "/cli", secret);
    const listed = await armor(["webhook", "list", "--repository", repo], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(hook.id);
    expect(listed.stdout).toContain(receiver.url("/cli"));
    expect(`${listed.stdout}${listed.stderr}`).not.toContain(secret);

    const refused = await armor(
      ["webhook", "add", "--repository", repo, "--url", "ftp://example.net/x", "--secret", secret],
      env,
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("http:// or https://");
    expect(`${refused.stdout}${refused.stderr}`).not.toContain(secret);
    const short = await armor(
      ["webhook", "add", "--repository", repo, "--url", receiver.url("/x"), "--secret", "tiny"],
      env,
    );
    expect(short.code).toBe(2);
    expect(short.stderr).not.toContain("tiny");
    const event = await armor(
      ["webhook", "add", "--repository", repo, "--url", receiver.url("/x"), "--secret", secret, "--event", "nope"],
      env,
    );
    expect(event.code).toBe(2);
    expect(event.stderr).toContain("release.activated");

    const removed = await armor(["webhook", "remove", "--repository", repo, hook.id], env);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toContain(`removed webhook ${hook.id}`);
    const empty = await armor(["webhook", "list", "--repository", repo, "--json"], env);
    expect(JSON.parse(empty.stdout)).toEqual({ webhooks: [] });
    const missing = await armor(["webhook", "deliveries", "--repository", repo, hook.id], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("webhook_not_found");
  });
});
