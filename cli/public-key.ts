/**
 * What `armor key add` may send: the public half of a key, never secret key material. The file is
 * inspected here, before any request, so a secret key handed over by mistake never leaves the
 * machine (the server refuses one too, but by then it would have left). Loaded only by the
 * commands that send keys: openpgp.js is most of the CLI's start-up.
 */
import { readKeys } from "openpgp";
import { UserError } from "./errors.ts";

const ARMOR_BLOCK = /^-----BEGIN PGP ([^\n]*)-----[\s\S]*?^-----END PGP [^\n]*-----/gm;

function secretKeyError(origin: string, fingerprint?: string): UserError {
  const which = fingerprint === undefined ? "<fingerprint>" : fingerprint.toUpperCase();
  return new UserError(`${origin} holds a secret key; nothing was sent (the repository needs only the public half).`, {
    code: "secret_key",
    hint: `export the public half with \`gpg --armor --export ${which} > key.asc\` and add that; keep the secret key to yourself`,
  });
}

/**
 * The armored text to send for the key file `bytes` (read from `origin`): its armor blocks as they
 * are, or a binary export armored here. Refuses, sending nothing, a file with any secret key packet
 * (an armored `PRIVATE KEY BLOCK`, or a key that parses as private) and a file that is not OpenPGP.
 * A block that is not a key (a revocation certificate) is passed on for the server to judge.
 */
export async function publicKeyToSend(bytes: Uint8Array, origin: string): Promise<string> {
  const text = new TextDecoder().decode(bytes);
  if (!text.includes("-----BEGIN PGP ")) {
    let keys: Awaited<ReturnType<typeof readKeys>>;
    try {
      keys = await readKeys({ binaryKeys: bytes });
    } catch (cause) {
      throw new UserError(`${origin} is not an OpenPGP public key; nothing was sent.`, {
        code: "invalid_key",
        hint: "export the key with `gpg --armor --export <fingerprint> > key.asc`",
        cause,
      });
    }
    const secret = keys.find((k) => k.isPrivate());
    if (secret !== undefined) throw secretKeyError(origin, secret.getFingerprint());
    return keys.map((k) => k.armor()).join("\n");
  }
  const blocks = [...text.matchAll(ARMOR_BLOCK)];
  if (blocks.length === 0) {
    throw new UserError(`${origin} has no complete armor block; nothing was sent.`, {
      code: "invalid_key",
      hint: "export the key with `gpg --armor --export <fingerprint> > key.asc`",
    });
  }
  for (const [block, label = ""] of blocks) {
    if (/PRIVATE KEY/i.test(label)) throw secretKeyError(origin);
    let keys: Awaited<ReturnType<typeof readKeys>> | null = null;
    try {
      keys = await readKeys({ armoredKeys: block });
    } catch {
      // Not a key (a revocation certificate alone): the server judges it.
    }
    const secret = keys?.find((k) => k.isPrivate());
    if (secret !== undefined) throw secretKeyError(origin, secret.getFingerprint());
  }
  return blocks.map(([block]) => block).join("\n");
}
