/**
 * The limits the API enforces and the CLI plans around, in one place: the Worker refuses what
 * exceeds them, and the CLI sizes its requests to stay inside them.
 */

/** Debian Policy §5.6.1 package names: lowercase letters, digits, + - ., at least two, starting alphanumeric. */
export const PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]+$/;

/** Workers refuse request bodies above this on the common plans (DESIGN.md §7); larger files go multipart. */
export const SINGLE_UPLOAD_LIMIT = 100 * 1024 * 1024;

/** Parts of one multipart upload (R2's limit): part numbers run from 1 to this. */
export const MULTIPART_MAX_PARTS = 10_000;

/** Files per batch upload (`POST …/blobs`): also the most one object call registers in one transaction. */
export const BATCH_MAX_FILES = 1000;
/**
 * Bytes per batch request (the whole multipart body, as its Content-Length). The body and the
 * parsed parts are in memory together, so this stays well below the isolate's 128 MB.
 */
export const BATCH_MAX_BYTES = 32 * 1024 * 1024;
/** Bytes per file in a batch; larger files go alone (`PUT …/blobs/{sha256}`, or the multipart API). */
export const BATCH_MAX_FILE_BYTES = 8 * 1024 * 1024;

/** Hashes per existence check (`POST …/blobs/lookup`). */
export const LOOKUP_MAX = 1000;
/** Packages per request adding them to a dist (`POST …/packages`). */
export const ADD_MAX = 1000;

/** JSON bodies (package lists, keys, grants) are small; anything larger is refused before it is read. */
export const JSON_BODY_LIMIT = 2 * 1024 * 1024;
/** An armored key handed to `POST …/keys`. */
export const KEY_TEXT_MAX = 1024 * 1024;

/** Rows a listing answers with at most (packages, releases, a diff's each side, the activation log). */
export const LIST_MAX = 1000;
