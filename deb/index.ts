/** deb/: Debian formats, no I/O and no bindings. Runs in workerd and in Node. */

export { type ArMember, writeAr } from "./ar.ts";
export { type ByteSource, concat } from "./bytes.ts";
export {
  type Control,
  type ControlField,
  controlField,
  LIMITS as CONTROL_LIMITS,
  parseControl,
  parseControlFile,
} from "./control.ts";
export { DEB_LIMITS, type DebInfo, type DebLimits, readDeb } from "./deb-reader.ts";
export { type BuildDebInput, buildDeb, type DebFileInput } from "./deb-writer.ts";
export { type Compression, decompress } from "./decompress.ts";
export * from "./errors.ts";
export { type FileHashes, hashBytes, IndexFileHasher, type IndexFileHashes, MultiHasher } from "./hash.ts";
export { type PackageEntry, renderPackages, renderStanza } from "./packages.ts";
export { debFileName, isValidComponent, poolPath, poolPrefix } from "./pool.ts";
export { type ReleaseFile, type ReleaseInput, releaseDate, renderRelease } from "./release.ts";
export { readTar, type TarEntry, type TarInput, writeTar } from "./tar.ts";
export { compareVersions, type DebianVersion, parseVersion, versionWithoutEpoch } from "./version.ts";
export { XzError, xzDecompress } from "./xz.ts";
