import { join } from "node:path";
import { VerifyError } from "../errors.js";
import { readBounded } from "../files/read-bounded.js";
import { type HashFileOptions, sha256File } from "../hashing/sha256-file.js";
import { MAX_CHECKSUMS_BYTES, parseChecksums } from "./parse.js";
import type { ChecksumList } from "./types.js";
import { type ChecksumsVerification, type FileSelection, verifyChecksums } from "./verify.js";

/**
 * Reads and parses a SHA256SUMS file; a missing or unreadable file is an error, never an empty list.
 * Read as every small input is (readBounded): regular files only, a FIFO cannot hang it, bounded.
 */
export async function readChecksumsFile(path: string): Promise<ChecksumList> {
  const bytes = await readBounded(path, "the checksums file", {
    hint: "point --file or --dir at it",
    maxBytes: MAX_CHECKSUMS_BYTES,
    tooLargeCode: "IC_CHECKSUMS_TOO_LARGE",
  });
  return parseChecksums(bytes);
}

/** Verifies the files of `list` that live under `directory`. */
export function verifyChecksumsInDirectory(
  list: ChecksumList,
  directory: string,
  selection: FileSelection,
  hashOptions: (name: string) => HashFileOptions = () => ({}),
): Promise<ChecksumsVerification> {
  return verifyChecksums(list, selection, (name) => sha256File(join(directory, name), hashOptions(name)));
}

/** Parses a SHA256SUMS arriving as a stream (standard input), refusing it once it passes the size limit. */
export async function readChecksumsStream(stream: AsyncIterable<Uint8Array>): Promise<ChecksumList> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.length;
    if (size > MAX_CHECKSUMS_BYTES) {
      throw new VerifyError(
        "IC_CHECKSUMS_TOO_LARGE",
        `the checksums on standard input pass ${MAX_CHECKSUMS_BYTES} bytes, the limit for a checksums file`,
      );
    }
    chunks.push(chunk);
  }
  return parseChecksums(Buffer.concat(chunks));
}
