/**
 * `armor key add` sends the public half of a key, never secret key material: the file is inspected
 * before any request. A local listener records every request the CLI makes.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as openpgp from "openpgp";
import { afterAll, beforeAll, beforeEach, describe, inject, it } from "vitest";
import { armor } from "./armor.ts";

let server: Server;
let endpoint: string;
let work: string;
const received: { method: string; url: string; body: string }[] = [];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "armor-key-add-"));
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString("latin1")));
    req.on("end", () => {
      received.push({ method: req.method ?? "", url: req.url ?? "", body });
      res.writeHead(201, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          fingerprint: inject("keys").trusted.fingerprint,
          status: "trusted",
          user_ids: ["Armor test key"],
          algorithm: "eddsaLegacy",
          created_at: "2026-01-01T00:00:00.000Z",
          expires_at: null,
          added_at: "2026-01-01T00:00:00.000Z",
          revoked_at: null,
          revocation_reason: null,
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  if (work) rmSync(work, { recursive: true, force: true });
});

beforeEach(() => {
  received.length = 0;
});

async function keyAdd(name: string, contents: string | Uint8Array) {
  const file = join(work, name);
  writeFileSync(file, contents);
  return armor(["key", "add", "--repository", "acme/tools", file], { ARMOR_ENDPOINT: endpoint, ARMOR_TOKEN: "t" });
}

describe("armor key add", () => {
  it("refuses secret key material in every form and sends nothing", async ({ expect }) => {
    const { secret, public: pub } = inject("keys").trusted;
    const key = await openpgp.readPrivateKey({ armoredKey: secret });
    const binary = key.write();
    const forms: [string, string | Uint8Array][] = [
      ["secret.asc", secret],
      ["secret.gpg", binary],
      // A public key and a secret one in one file.
      ["both.asc", `${pub}\n${secret}`],
      // Secret packets under a public label.
      ["mislabelled.asc", openpgp.armor(openpgp.enums.armor.publicKey, binary)],
    ];
    for (const [name, contents] of forms) {
      const r = await keyAdd(name, contents);
      expect(r.code, name).toBe(1);
      expect(r.stderr, name).toContain("holds a secret key; nothing was sent");
      expect(r.stderr, name).toContain("gpg --armor --export");
      expect(received, name).toEqual([]);
    }
  });

  it("refuses a file that is not a key without sending it", async ({ expect }) => {
    const r = await keyAdd("notes.txt", "not a key at all\n");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("nothing was sent");
    expect(received).toEqual([]);
  });

  it("sends a public key, armored or binary, as its armored public half", async ({ expect }) => {
    const { public: pub, fingerprint } = inject("keys").trusted;
    const armored = await keyAdd("public.asc", pub);
    expect(armored.code, armored.stderr).toBe(0);
    expect(armored.stdout).toContain(`trusted ${fingerprint}`);
    const binary = (await openpgp.readKey({ armoredKey: pub })).write();
    const fromBinary = await keyAdd("public.gpg", binary);
    expect(fromBinary.code, fromBinary.stderr).toBe(0);
    expect(received).toHaveLength(2);
    for (const request of received) {
      expect(request.method).toBe("POST");
      expect(request.url).toBe("/api/v1/repositories/acme/tools/keys");
      const sent = JSON.parse(request.body) as { key: string };
      expect(sent.key).toContain("-----BEGIN PGP PUBLIC KEY BLOCK-----");
      const keys = await openpgp.readKeys({ armoredKeys: sent.key });
      expect(keys.map((k) => k.isPrivate())).toEqual([false]);
      expect(keys[0]?.getFingerprint().toUpperCase()).toBe(fingerprint.toUpperCase());
    }
  });
});
