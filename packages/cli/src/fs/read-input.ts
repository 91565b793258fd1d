import { readFile } from "node:fs/promises";
import { VerifyError } from "@ironclaw/verify/errors";

/** Reads a whole input file; a missing or unreadable one is a coded error naming what it was for. */
export async function readInputFile(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === "ENOENT")
      throw new VerifyError("IC_FILE_MISSING", `${what} ${path} does not exist`, { cause });
    if (code === "EISDIR")
      throw new VerifyError("IC_FILE_NOT_REGULAR", `${what} ${path} is a directory`, { cause });
    throw new VerifyError("IC_FILE_READ", `cannot read ${what} ${path}: ${(cause as Error).message}`, {
      cause,
    });
  }
}
