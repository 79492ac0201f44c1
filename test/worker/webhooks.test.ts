/**
 * The webhooks API (issue 20) inside workerd: only a repository's admins manage its webhooks, no
 * read ever shows a secret, receivers that would point back at Armor are refused, and a deleted
 * repository's webhooks go with it and never reach a successor under the same id. Delivery itself
 * (queue, signature, retries) is tested against a real receiver in test/cli/webhooks.test.ts.
 */
import { env } from "cloudflare:workers";
import { describe, it } from "vitest";
import { WEBHOOK_EVENTS } from "../../schema/webhooks.ts";
import { checkReceiverUrl } from "../../worker/webhooks/urls.ts";
import { call, createRepo, json, uniqueRepo } from "../helpers/armor.ts";

const SECRET = "s3cret-that-is-long-enough-0123456789";

interface Hook {
  id: string;
  repository: string;
  url: string;
  events: string[];
  created_at: string;
}

async function addHook(repo: string, body: Record<string, unknown>, auth?: string | null): Promise<Response> {
  return call(`/api/v1/repositories/${repo}/webhooks`, {
    method: "POST",
    body: JSON.stringify(body),
    ...(auth === undefined ? {} : { auth }),
  });
}

async function errorOf(res: Response): Promise<{ status: number; code: string; message: string }> {
  const body = await json<{ error: { code: string; message: string } }>(res);
  return { status: res.status, code: body.error.code, message: body.error.message };
}

describe("managing webhooks", () => {
  it("adds, lists and removes webhooks, and never shows a secret", async ({ expect }) => {
    const repo = uniqueRepo("hooks");
    await createRepo(repo, { trustKey: false });
    const added = await addHook(repo, { url: "https://ci.example.net/hooks/armor", secret: SECRET });
    expect(added.status).toBe(201);
    const addedText = await added.text();
    expect(addedText).not.toContain(SECRET);
    const hook = JSON.parse(addedText) as Hook;
    expect(hook).toEqual({
      id: expect.stringMatching(/^wh_[0-9a-f]{16}$/),
      repository: repo,
      url: "https://ci.example.net/hooks/armor",
      events: [...WEBHOOK_EVENTS],
      created_at: expect.any(String),
    });
    const chosen = await addHook(repo, {
      url: "https://ci.example.net/hooks/releases",
      secret: SECRET,
      events: ["release.activated", "key.removed"],
    });
    expect(chosen.status).toBe(201);
    const second = await json<Hook>(chosen);
    expect(second.events).toEqual(["release.activated", "key.removed"]);

    const listed = await call(`/api/v1/repositories/${repo}/webhooks`);
    expect(listed.status).toBe(200);
    const listedText = await listed.text();
    expect(listedText).not.toContain(SECRET);
    expect(listedText).not.toContain("secret");
    expect((JSON.parse(listedText) as { webhooks: Hook[] }).webhooks.map((w) => w.id)).toEqual([hook.id, second.id]);
    const deliveries = await call(`/api/v1/repositories/${repo}/webhooks/${hook.id}/deliveries`);
    expect(deliveries.status).toBe(200);
    expect(await json(deliveries)).toEqual({ deliveries: [] });

    const removed = await call(`/api/v1/repositories/${repo}/webhooks/${hook.id}`, { method: "DELETE" });
    expect(removed.status).toBe(200);
    expect(await json(removed)).toEqual({ removed: hook.id });
    const again = await call(`/api/v1/repositories/${repo}/webhooks/${hook.id}`, { method: "DELETE" });
    expect(await errorOf(again)).toMatchObject({ status: 404, code: "webhook_not_found" });
    const gone = await call(`/api/v1/repositories/${repo}/webhooks/${hook.id}/deliveries`);
    expect(await errorOf(gone)).toMatchObject({ status: 404, code: "webhook_not_found" });
    const after = await json<{ webhooks: Hook[] }>(await call(`/api/v1/repositories/${repo}/webhooks`));
    expect(after.webhooks.map((w) => w.id)).toEqual([second.id]);
  });

  it("keeps one repository's webhooks out of another's API", async ({ expect }) => {
    const a = uniqueRepo("hooks-a");
    const b = uniqueRepo("hooks-b");
    await createRepo(a, { trustKey: false });
    await createRepo(b, { trustKey: false });
    const hook = await json<Hook>(await addHook(a, { url: "https://ci.example.net/a", secret: SECRET }));
    const paths = [
      [`/webhooks/${hook.id}`, "DELETE"],
      [`/webhooks/${hook.id}/test`, "POST"],
      [`/webhooks/${hook.id}/deliveries`, "GET"],
    ] as const;
    for (const [path, method] of paths) {
      const res = await call(`/api/v1/repositories/${b}${path}`, { method });
      expect(await errorOf(res), path).toMatchObject({ status: 404, code: "webhook_not_found" });
    }
    expect((await json<{ webhooks: Hook[] }>(await call(`/api/v1/repositories/${b}/webhooks`))).webhooks).toEqual([]);
  });

  it("needs a repository admin's credentials for every webhook route", async ({ expect }) => {
    const repo = uniqueRepo("hooks-auth");
    await createRepo(repo, { trustKey: false });
    const hook = await json<Hook>(await addHook(repo, { url: "https://ci.example.net/x", secret: SECRET }));
    const routes = [
      ["/webhooks", "GET"],
      ["/webhooks", "POST"],
      [`/webhooks/${hook.id}`, "DELETE"],
      [`/webhooks/${hook.id}/test`, "POST"],
      [`/webhooks/${hook.id}/deliveries`, "GET"],
    ] as const;
    for (const [path, method] of routes) {
      const body = method === "POST" ? JSON.stringify({ url: "https://ci.example.net/y", secret: SECRET }) : null;
      const anonymous = await call(`/api/v1/repositories/${repo}${path}`, { method, body, auth: null });
      expect(await errorOf(anonymous), `${method} ${path}`).toMatchObject({ status: 401, code: "unauthorized" });
      // Without the accounts sidecar only the operator is anyone; roles are checked through it
      // (test/sidecar/worker-access.test.ts: only admin may list webhooks).
      const stranger = await call(`/api/v1/repositories/${repo}${path}`, { method, body, auth: "not-a-token" });
      expect(await errorOf(stranger), `${method} ${path}`).toMatchObject({ status: 403, code: "forbidden" });
    }
    const listed = await json<{ webhooks: Hook[] }>(await call(`/api/v1/repositories/${repo}/webhooks`));
    expect(listed.webhooks.map((w) => w.id)).toEqual([hook.id]);
  });

  it("refuses a bad secret or event with a message that names the field", async ({ expect }) => {
    const repo = uniqueRepo("hooks-input");
    await createRepo(repo, { trustKey: false });
    const short = await addHook(repo, { url: "https://ci.example.net/x", secret: "short" });
    const shortError = await errorOf(short);
    expect(shortError).toMatchObject({ status: 400, code: "invalid_request" });
    expect(shortError.message).toContain("body.secret");
    expect(shortError.message).not.toContain('short"');
    const event = await addHook(repo, { url: "https://ci.example.net/x", secret: SECRET, events: ["package.pushed"] });
    const eventError = await errorOf(event);
    expect(eventError).toMatchObject({ status: 400, code: "invalid_request" });
    expect(eventError.message).toContain("release.activated");
    const none = await addHook(repo, { secret: SECRET });
    expect(await errorOf(none)).toMatchObject({ status: 400, code: "invalid_request" });
  });
});

describe("receiver URLs", () => {
  it("refuses what is not http(s), carries credentials, or is this Armor, and takes a loopback receiver on another port", async ({
    expect,
  }) => {
    const repo = uniqueRepo("hooks-urls");
    const host = `apt.${repo.replace(/[/]/g, "-")}.example`;
    await createRepo(repo, { trustKey: false, hostnames: [host] });
    // The tests reach the Worker at http://localhost (port 80).
    const refused: [string, string][] = [
      ["ftp://ci.example.net/hook", "http:// or https://"],
      ["javascript:alert(1)", "http:// or https://"],
      ["file:///etc/passwd", "http:// or https://"],
      ["ci.example.net/hook", "not an absolute URL"],
      ["https://user:pass@ci.example.net/hook", "credentials"],
      [`https://${host}/hook`, "a repository is served at"],
      [`https://${host.toUpperCase()}./hook`, "a repository is served at"],
      ["http://localhost/hook", "this Armor itself"],
      ["http://127.0.0.1:80/hook", "this Armor itself"],
      ["http://[::1]/hook", "this Armor itself"],
    ];
    for (const [url, why] of refused) {
      const res = await addHook(repo, { url, secret: SECRET });
      const error = await errorOf(res);
      expect(error, url).toMatchObject({ status: 400, code: "invalid_request" });
      expect(error.message, url).toContain(why);
    }
    const local = await addHook(repo, { url: "http://127.0.0.1:9/hooks", secret: SECRET });
    expect(local.status).toBe(201);
    expect((await json<Hook>(local)).url).toBe("http://127.0.0.1:9/hooks");
    const listed = await json<{ webhooks: Hook[] }>(await call(`/api/v1/repositories/${repo}/webhooks`));
    expect(listed.webhooks).toHaveLength(1);
  });

  it("refuses the deployed Worker's own API hosts, and loopback, which it cannot reach", async ({ expect }) => {
    const deployed = { ...env, PLATFORM_HOSTS: "armor.example.com, api.armor.example.com" };
    const self = "https://armor.example.com/api/v1/repositories/acme/tools/webhooks";
    const verdict = (url: string) => checkReceiverUrl(deployed, url, self);
    for (const url of [
      "https://armor.example.com/hook",
      "https://API.armor.example.com:8443/x",
      "http://armor.example.com./",
    ]) {
      const v = await verdict(url);
      expect(v.ok, url).toBe(false);
      if (!v.ok) expect(v.message, url).toContain("Armor's own API host");
    }
    for (const url of ["http://127.0.0.1:9000/hook", "http://localhost:3000/"]) {
      const v = await verdict(url);
      expect(v.ok, url).toBe(false);
      if (!v.ok) expect(v.message, url).toContain("loopback");
    }
    expect(await verdict("https://ci.example.com/hooks/armor#frag")).toEqual({
      ok: true,
      url: "https://ci.example.com/hooks/armor",
    });
  });
});

describe("a deleted repository's webhooks", () => {
  it("are deleted with it, delivery history included, and never reach a successor under the same id", async ({
    expect,
  }) => {
    const repo = uniqueRepo("hooks-deleted");
    await createRepo(repo, { trustKey: false });
    await json<Hook>(await addHook(repo, { url: "https://ci.example.net/first", secret: SECRET }));
    const count = async (table: string) =>
      (
        await env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE repository_id = ?`)
          .bind(repo)
          .first<{ n: number }>()
      )?.n;
    expect(await count("webhooks")).toBe(1);
    // A ping records an event and a delivery for it.
    const hooks = await json<{ webhooks: Hook[] }>(await call(`/api/v1/repositories/${repo}/webhooks`));
    const id = hooks.webhooks[0]?.id ?? "";
    await env.DB.prepare(
      "INSERT INTO webhook_events (id, repository_id, repository_uid, event, dedupe_key, payload, created_at) VALUES (?, ?, NULL, 'ping', ?, '{}', ?)",
    )
      .bind(crypto.randomUUID(), repo, `test:${repo}`, new Date().toISOString())
      .run();
    expect(await count("webhook_events")).toBe(1);
    expect(id).toMatch(/^wh_/);

    const deleted = await call(`/admin/v1/repositories/${repo}`, { method: "DELETE" });
    expect(deleted.status).toBe(200);
    expect(await count("webhooks")).toBe(0);
    expect(await count("webhook_events")).toBe(0);

    await createRepo(repo, { trustKey: false });
    const successor = await json<{ webhooks: Hook[] }>(await call(`/api/v1/repositories/${repo}/webhooks`));
    expect(successor.webhooks).toEqual([]);
    const old = await call(`/api/v1/repositories/${repo}/webhooks/${id}/deliveries`);
    expect(await errorOf(old)).toMatchObject({ status: 404, code: "webhook_not_found" });
  });

  it("are not the successor's even if a row of the predecessor's lifetime were left behind", async ({ expect }) => {
    const repo = uniqueRepo("hooks-lifetime");
    await createRepo(repo, { trustKey: false });
    // A webhook of an earlier lifetime (another uid) under the same id, as a failed cleanup would leave it.
    await env.DB.prepare(
      "INSERT INTO webhooks (id, repository_id, repository_uid, url, secret, events, created_at) VALUES ('wh_00000000000000aa', ?, 'an-older-uid', 'https://ci.example.net/old', ?, ?, ?)",
    )
      .bind(repo, SECRET, JSON.stringify(WEBHOOK_EVENTS), new Date().toISOString())
      .run();
    const listed = await json<{ webhooks: Hook[] }>(await call(`/api/v1/repositories/${repo}/webhooks`));
    expect(listed.webhooks).toEqual([]);
    const test = await call(`/api/v1/repositories/${repo}/webhooks/wh_00000000000000aa/test`, { method: "POST" });
    expect(await errorOf(test)).toMatchObject({ status: 404, code: "webhook_not_found" });
  });
});
