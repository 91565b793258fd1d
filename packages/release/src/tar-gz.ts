import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "tar";
import { type ArchiveEntry, modeOf, sortEntries } from "./archive-entries.js";
import { gzipDeterministic } from "./gzip.js";

/**
 * A tar.gz whose bytes depend only on the entries and the time: entries sorted by name, every mtime
 * SOURCE_DATE_EPOCH, uid/gid 0 without user or group names (node-tar's portable mode), modes 0755 or
 * 0644 set explicitly (never the umask), then gzipDeterministic.
 */
export async function createTarGz(
  entries: readonly ArchiveEntry[],
  sourceDateEpoch: number,
): Promise<Uint8Array> {
  const staging = await mkdtemp(join(tmpdir(), "ironclaw-tar-"));
  try {
    const sorted = sortEntries(entries);
    for (const entry of sorted) {
      const path = join(staging, entry.name);
      await writeFile(path, entry.data);
      await chmod(path, modeOf(entry));
    }
    const stream = create(
      {
        cwd: staging,
        portable: true,
        noPax: true,
        gzip: false,
        sync: true,
        mtime: new Date(sourceDateEpoch * 1000),
      },
      sorted.map((entry) => entry.name),
    );
    const tarBytes = stream.read() as Buffer | null;
    if (tarBytes === null) throw new Error("tar produced no output");
    return gzipDeterministic(tarBytes);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
