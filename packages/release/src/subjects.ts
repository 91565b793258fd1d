import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { formatChecksums } from "@ironclaw/verify/checksums";
import { unzipSync } from "fflate";
import { Parser } from "tar";

/** Files inside archives that the provenance must name: what users run. */
const EXECUTABLES = new Set(["ironclaw", "ironclaw.exe", "ironclaw.cjs"]);
const INSTALLERS = new Set(["install.sh", "install.ps1"]);
/** The sandbox self-test's report, attested like every other asset. */
const CONTAINMENT_REPORT = /^ironclaw_.+_containment\.json$/;

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

async function tarEntries(archive: Uint8Array): Promise<Array<{ name: string; data: Buffer }>> {
  const entries: Array<{ name: string; data: Buffer }> = [];
  await new Promise<void>((resolve, reject) => {
    const parser = new Parser({
      onReadEntry: (entry) => {
        if (entry.type !== "File" || !EXECUTABLES.has(entry.path)) {
          entry.resume();
          return;
        }
        const chunks: Buffer[] = [];
        entry.on("data", (chunk: Buffer) => chunks.push(chunk));
        entry.on("end", () => entries.push({ name: entry.path, data: Buffer.concat(chunks) }));
      },
    });
    parser.on("end", resolve);
    parser.on("error", reject);
    parser.end(Buffer.from(archive));
  });
  return entries;
}

/**
 * The subjects of a release's build-provenance attestation, as a SHA256SUMS-format list (what
 * actions/attest takes as `subject-checksums`): every archive, every executable inside one (named
 * `<archive>/<file>`), and the installers.
 */
export async function releaseSubjects(dir: string): Promise<string> {
  const subjects: Array<{ name: string; sha256: string }> = [];
  for (const name of (await readdir(dir)).sort()) {
    const archive = /^(ironclaw_.+)\.(tar\.gz|zip)$/.exec(name);
    if (archive === null && !INSTALLERS.has(name) && !CONTAINMENT_REPORT.test(name)) continue;
    const bytes = await readFile(join(dir, name));
    subjects.push({ name, sha256: sha256(bytes) });
    if (archive === null) continue;
    const inside =
      archive[2] === "zip"
        ? Object.entries(unzipSync(bytes, { filter: (file) => EXECUTABLES.has(file.name) })).map(
            ([entry, data]) => ({ name: entry, data }),
          )
        : await tarEntries(bytes);
    for (const entry of inside)
      subjects.push({ name: `${archive[1]}/${entry.name}`, sha256: sha256(entry.data) });
  }
  return formatChecksums(subjects);
}
