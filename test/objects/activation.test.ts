/**
 * The edge's pointer in D1 converges on the object's active release whatever happens between the
 * two writes (DESIGN.md §4b: a publish is done when the edge serves it). The object is killed at
 * the worst moment, right after its activation is committed and while the pointer write is under
 * way, as a crashed isolate or a restarted machine would leave it.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, it } from "vitest";
import { parseIndexDocument, SignedIndexDocumentSchema } from "../../schema/index-document.ts";
import { repositoryStub } from "../../worker/stub.ts";
import {
  call,
  createRepo,
  generate,
  json,
  makeDeb,
  publish,
  push,
  scopeOf,
  sign,
  submit,
  uniqueRepo,
} from "../helpers/armor.ts";

async function pointer(repo: string): Promise<string | null | undefined> {
  const row = await env.DB.prepare("SELECT active_release FROM repositories WHERE id = ?")
    .bind(repo)
    .first<{ active_release: string | null }>();
  return row?.active_release;
}

/**
 * Give the live object a D1 whose pointer write first lets the object's own writes reach disk
 * (as the output gate would before the real write leaves) and then kills the object.
 */
async function killAtPointerWrite(stub: DurableObjectStub): Promise<void> {
  await runInDurableObject(stub, (instance, state) => {
    const real = env.DB;
    const dying = {
      prepare: (query: string) => {
        if (!query.startsWith("UPDATE repositories SET active_release")) return real.prepare(query);
        return {
          bind: () => ({
            run: async () => {
              await state.storage.sync();
              state.abort("killed between the activation and the pointer write (test)");
            },
          }),
        };
      },
    };
    const wrapped = new Proxy(env, { get: (target, key) => (key === "DB" ? dying : Reflect.get(target, key)) });
    Reflect.set(instance, "env", wrapped);
  });
}

describe("activation and the edge's pointer", () => {
  it("converges on the new release after the object dies between its commit and the D1 write", async ({ expect }) => {
    const repo = uniqueRepo("crash");
    await createRepo(repo);
    await push(repo, "stable", "main", [makeDeb("hello", "1.0", "amd64")]);
    await publish(repo, ["stable"]);
    await push(repo, "stable", "main", [makeDeb("hello", "2.0", "amd64")]);
    const { document } = await generate(repo, "stable");
    const signed = await sign(document);

    await killAtPointerWrite(repositoryStub(env, await scopeOf(repo)));
    const res = await submit(repo, "stable", signed);
    expect(res.status).toBe(500);
    await res.body?.cancel();
    // The object committed r2; the edge still has r1.
    expect(await pointer(repo)).toBe("r1");

    // The retry was recorded with the commit: the next alarm completes the activation. (A stub
    // that saw its object reset stays broken: a new one reaches the new instance.)
    expect(await runDurableObjectAlarm(repositoryStub(env, await scopeOf(repo)))).toBe(true);
    expect(await pointer(repo)).toBe("r2");
    const log = await json<{ activations: { release: string; visible_at: string | null }[] }>(
      await call(`/api/v1/repositories/${repo}/activations`),
    );
    expect(log.activations[0]).toMatchObject({ release: "r2", visible_at: expect.any(String) });
  });

  it("schedules the pointer write again when it restarts with an activation pending and no alarm", async ({
    expect,
  }) => {
    const repo = uniqueRepo("restart");
    await createRepo(repo);
    await push(repo, "stable", "main", [makeDeb("hello", "1.0", "amd64")]);
    await publish(repo, ["stable"]);
    await push(repo, "stable", "main", [makeDeb("hello", "2.0", "amd64")]);
    const { document } = await generate(repo, "stable");
    const signed = await sign(document);
    await killAtPointerWrite(repositoryStub(env, await scopeOf(repo)));
    await (await submit(repo, "stable", signed)).body?.cancel();
    // As an object left behind by an older version would be: committed, no alarm.
    await runInDurableObject(repositoryStub(env, await scopeOf(repo)), async (_instance, state) => {
      await state.storage.deleteAlarm();
      state.abort("restart (test)");
    }).catch(() => undefined);

    // Any request starts the object again; starting, it sees the pending activation.
    expect((await call(`/api/v1/repositories/${repo}/releases`)).status).toBe(200);
    expect(await runDurableObjectAlarm(repositoryStub(env, await scopeOf(repo)))).toBe(true);
    expect(await pointer(repo)).toBe("r2");
  });

  it("stops retrying the pointer of a repository whose row is gone from D1", async ({ expect }) => {
    const repo = uniqueRepo("gone");
    await createRepo(repo);
    await push(repo, "stable", "main", [makeDeb("hello", "1.0", "amd64")]);
    const { document } = await generate(repo, "stable");
    const signed = parseIndexDocument(await sign(document), SignedIndexDocumentSchema);
    if (!signed.ok) throw new Error(signed.error.message);
    const stub = repositoryStub(env, await scopeOf(repo));
    // Deleted at the edge (the admin API removes the D1 row first) while the object still runs.
    await env.DB.prepare("DELETE FROM repositories WHERE id = ?").bind(repo).run();
    const result = await stub.submit(signed.value, { activate: true });
    expect(result).toMatchObject({ ok: false, error: { code: "repository_not_found" } });

    // At most one more attempt, which finds no row and gives up: no alarm is left to loop on.
    await runDurableObjectAlarm(stub);
    expect(await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm())).toBeNull();
    expect(await pointer(repo)).toBeUndefined();
  });
});
