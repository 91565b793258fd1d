import { unzipSync } from "fflate";
import { Parser } from "tar";
import { CliError } from "../errors.js";

/**
 * The one file an upgrade needs from a verified archive, read in memory: exactly one regular file
 * with exactly this top-level name. Nothing else in the archive is written anywhere.
 */
export async function extractEntry(archive: Uint8Array, archiveName: string, entry: string): Promise<Buffer> {
  const found = archiveName.endsWith(".zip") ? fromZip(archive, entry) : await fromTarGz(archive, entry);
  if (found.length !== 1 || found[0] === undefined) {
    throw new CliError(
      "IC_UPGRADE_VERIFICATION",
      `${archiveName} holds ${found.length} files named ${entry}; expected exactly one`,
    );
  }
  return found[0];
}

function fromZip(archive: Uint8Array, entry: string): Buffer[] {
  // unzipSync keys what it returns by name, so a second entry of that name would silently replace
  // the first: the entries are counted as they are read instead.
  let named = 0;
  const files = unzipSync(archive, { filter: (file) => file.name === entry && ++named > 0 });
  const bytes = files[entry];
  if (named !== 1 || bytes === undefined) return new Array<Buffer>(named).fill(Buffer.alloc(0));
  return [Buffer.from(bytes)];
}

async function fromTarGz(archive: Uint8Array, entry: string): Promise<Buffer[]> {
  const found: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    const parser = new Parser({
      onReadEntry: (read) => {
        if (read.path !== entry || read.type !== "File") {
          read.resume();
          return;
        }
        const chunks: Buffer[] = [];
        read.on("data", (chunk: Buffer) => chunks.push(chunk));
        read.on("end", () => found.push(Buffer.concat(chunks)));
      },
    });
    parser.on("end", resolve);
    parser.on("error", reject);
    parser.end(Buffer.from(archive));
  });
  return found;
}
