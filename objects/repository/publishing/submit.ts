/**
 * The signed document comes back (DESIGN.md §3): the generation must still be current, the
 * Release text byte-equal to what generate.ts rendered for it, and both signatures valid by a
 * trusted key (pgp/release-signatures.ts). Then InRelease and Release.gpg are stored, and the
 * release activates (activation.ts) once every changed dist is signed, unless told not to.
 */

import { verifyReleaseSignatures } from "../../../pgp/release-signatures.ts";
import { putBytes } from "../../../r2/blobs.ts";
import type { SignedIndexDocument } from "../../../schema/index-document.ts";
import type { Submitted } from "../../../schema/responses.ts";
import { err, type Outcome, ok } from "../outcome.ts";
import type { Releases } from "../releases.ts";
import type { Settings } from "../settings.ts";
import type { TrustedKeys } from "../trusted-keys.ts";
import type { Activation } from "./activation.ts";
import { type Dists, unsignedDists } from "./dists.ts";

export class Submission {
  readonly #bucket: () => R2Bucket;
  readonly #releases: Releases;
  readonly #dists: Dists;
  readonly #keys: TrustedKeys;
  readonly #activation: Activation;

  constructor(
    bucket: () => R2Bucket,
    parts: { releases: Releases; dists: Dists; keys: TrustedKeys; activation: Activation },
  ) {
    this.#bucket = bucket;
    this.#releases = parts.releases;
    this.#dists = parts.dists;
    this.#keys = parts.keys;
    this.#activation = parts.activation;
  }

  async submit(s: Settings, doc: SignedIndexDocument, options: { activate: boolean }): Promise<Outcome<Submitted>> {
    if (doc.repository !== s.id) {
      return err("malformed_document", `this document is for repository ${doc.repository}, not ${s.id}`);
    }
    const release = this.#releases.get(doc.release);
    if (release === null) return err("release_not_found", `no release ${doc.release} in this repository`);
    if (release.state !== "open") {
      return err("release_immutable", `release ${release.id} is ${release.state}; it can no longer be signed`);
    }
    if (doc.generation !== release.generation) {
      return err(
        "stale_generation",
        `the document was generated at generation ${doc.generation}, but release ${release.id} has changed since (now ${release.generation}); run armor index generate again and sign the new document`,
        { document_generation: doc.generation, current_generation: release.generation },
      );
    }
    const dist = this.#dists.dist(release.id, doc.dist);
    if (dist === null || dist.releaseText === null || dist.generatedGeneration !== doc.generation) {
      return err(
        "release_mismatch",
        `dist ${doc.dist} was not generated at generation ${doc.generation}; run armor index generate`,
      );
    }
    if (dist.releaseText !== doc.release_text) {
      return err(
        "release_mismatch",
        "the Release text in the document differs from the one the server generated; sign the document armor index generate printed, unmodified",
      );
    }
    // Keys are changed in turn with this (addKey, removeKey): a revocation acknowledged before
    // this started is seen here, and none lands between this check and the activation below.
    const keys = this.#keys.all();
    const verified = await verifyReleaseSignatures({
      releaseText: doc.release_text,
      inrelease: doc.inrelease,
      releaseGpg: doc.release_gpg,
      fingerprint: doc.fingerprint,
      trustedKeys: keys.filter((k) => k.revokedAt === null).map((k) => k.armored),
      revokedKeys: keys.filter((k) => k.revokedAt !== null).map((k) => k.armored),
    });
    if (!verified.ok) return err(verified.error.code, verified.error.message);
    const encoder = new TextEncoder();
    const [releaseFile, inRelease, releaseGpg] = await Promise.all(
      // The verifier hands back the signatures reduced to their armor blocks: apt's gpgv wrapper
      // refuses any line outside the armor, so what is stored is exactly what it accepts.
      [doc.release_text, verified.value.inrelease, verified.value.releaseGpg].map((t) =>
        putBytes(this.#bucket(), s.scope, encoder.encode(t)),
      ),
    );
    if (releaseFile === undefined || inRelease === undefined || releaseGpg === undefined) {
      throw new Error("putBytes returned fewer results than files");
    }
    // An upload may have landed while the signatures were checked and stored.
    if (this.#releases.generationOf(release.id) !== doc.generation) {
      return err(
        "stale_generation",
        `release ${release.id} changed while the signatures were being checked; run armor index generate again and sign the new document`,
        { document_generation: doc.generation, current_generation: this.#releases.generationOf(release.id) },
      );
    }
    this.#dists.setSigned(
      release.id,
      doc.dist,
      { release: releaseFile, inRelease, releaseGpg },
      verified.value.fingerprint,
      Date.now(),
    );
    const unsigned = unsignedDists(this.#dists.dists(release.id), this.#keys.revokedSigners());
    let activated = false;
    if (options.activate && unsigned.length === 0) {
      const result = await this.#activation.activate(s, release.id);
      if (!result.ok) return result;
      activated = true;
    }
    return ok({
      release: release.id,
      dist: doc.dist,
      fingerprint: verified.value.fingerprint,
      activated,
      unsigned_dists: unsigned,
    });
  }
}
