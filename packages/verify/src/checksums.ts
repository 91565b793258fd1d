/** SHA256SUMS: parse, write, verify, and the streaming hash underneath. Node built-ins only. */
export { readChecksumsFile, readChecksumsStream, verifyChecksumsInDirectory } from "./checksums/directory.js";
export { compareNames, formatChecksums, type NamedDigest } from "./checksums/format.js";
export { assertSafeName, MAX_NAME_BYTES } from "./checksums/names.js";
export { MAX_CHECKSUMS_BYTES, parseChecksums } from "./checksums/parse.js";
export type { ChecksumEntry, ChecksumLineForm, ChecksumList } from "./checksums/types.js";
export {
  type ChecksumsVerification,
  type FileCheck,
  type FileSelection,
  type FileStatus,
  type HashByName,
  verifyChecksums,
} from "./checksums/verify.js";
export { sha256FilesInParallel } from "./hashing/parallel.js";
export {
  DEFAULT_CHUNK_BYTES,
  type DigestAlgorithm,
  digestFile,
  type FileDigest,
  type FileDigests,
  type HashFileOptions,
  sha256File,
} from "./hashing/sha256-file.js";
export { HASHING_WORKER_BOOTSTRAP, type WorkersStartedAhead } from "./hashing/workers.js";
