import { open } from "node:fs/promises";
import { join } from "node:path";
import { VerifyError } from "../errors.js";
import { type HashFileOptions, sha256File } from "../hashing/sha256-file.js";
import { MAX_CHECKSUMS_BYTES, parseChecksums } from "./parse.js";
import type { ChecksumList } from "./types.js";
import { type ChecksumsVerification, type FileSelection, verifyChecksums } from "./verify.js";

/** Reads and parses a SHA256SUMS file; a missing or unreadable file is an error, never an empty list. */
export async function readChecksumsFile(path: string): Promise<ChecksumList> {
  return parseChecksums(await readBounded(path));
}

async function readBounded(path: string): Promise<Buffer> {
  try {
    const handle = await open(path, "r");
    try {
      const { size } = await handle.stat();
      if (size > MAX_CHECKSUMS_BYTES) {
        throw new VerifyError(
          "IC_CHECKSUMS_TOO_LARGE",
          `${path} is ${size} bytes; a checksums file may have at most ${MAX_CHECKSUMS_BYTES} bytes`,
        );
      }
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  } catch (cause) {
    if (cause instanceof VerifyError) throw cause;
    if ((cause as NodeJS.ErrnoException).code === "ENOENT") {
      throw new VerifyError(
        "IC_FILE_MISSING",
        `the checksums file ${path} does not exist; point --file or --dir at it`,
        { cause },
      );
    }
    throw new VerifyError(
      "IC_FILE_READ",
      `cannot read the checksums file ${path}: ${(cause as Error).message}`,
      { cause },
    );
  }
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
