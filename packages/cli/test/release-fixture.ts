import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readSourceInfo, releaseLocally } from "@ironclaw/release";
import {
  githubBuildProvenance,
  githubWorkflowIdentity,
  inTotoStatement,
  type LocalSigstore,
  type SigningIdentity,
  SLSA_PROVENANCE_V1,
} from "@ironclaw/sigstore-local";
import { formatChecksums, sha256File } from "@ironclaw/verify";

export const ROOT = new URL("../../../", import.meta.url).pathname.replace(/\/$/, "");
export const REPOSITORY = "acme/ironclaw";

export function releaseIdentityFor(
  version: string,
  overrides: { repository?: string; workflowPath?: string; sha?: string } = {},
): SigningIdentity {
  return githubWorkflowIdentity({
    repository: overrides.repository ?? REPOSITORY,
    ref: `refs/tags/v${version}`,
    sha: overrides.sha ?? readSourceInfo(ROOT).commit,
    workflowPath: overrides.workflowPath ?? ".github/workflows/release.yml",
  });
}

/** A signed release of the node bundle, as release:local makes it, into a fresh directory. */
export async function signedRelease(
  sigstore: LocalSigstore,
  version: string,
  targets: string[] = ["node"],
): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), `ironclaw-release-${version}-`));
  const source = { ...readSourceInfo(ROOT), version };
  await releaseLocally({ source, outDir: dir, repository: REPOSITORY, targets, sigstore });
  writeFileSync(join(dir, "trusted_root.json"), JSON.stringify(sigstore.trustedRoot));
  return dir;
}

/** A copy of a release directory to break in one way. */
export function variant(dir: string, name: string): string {
  const copy = mkdtempSync(join(tmpdir(), `ironclaw-variant-${name}-`));
  cpSync(dir, copy, { recursive: true });
  return copy;
}

export function flipByte(path: string, at?: number): void {
  const bytes = readFileSync(path);
  const index = at ?? Math.floor(bytes.length / 2);
  bytes[index] = (bytes[index] ?? 0) ^ 0x01;
  writeFileSync(path, bytes);
}

/** Replaces the release's attestations with one statement, signed as `identity`, about the named files of `dir`. */
export async function reattest(
  sigstore: LocalSigstore,
  dir: string,
  identity: SigningIdentity,
  files: string[],
  attestations: string,
): Promise<void> {
  const subjects = [];
  for (const name of files) subjects.push({ name, sha256: (await sha256File(join(dir, name))).sha256 });
  const statement = inTotoStatement(subjects, SLSA_PROVENANCE_V1, githubBuildProvenance(identity));
  const bundle = await sigstore.signDsse(
    Buffer.from(JSON.stringify(statement)),
    "application/vnd.in-toto+json",
    identity,
  );
  writeFileSync(join(dir, attestations), `${JSON.stringify(bundle)}\n`);
}

/** Rewrites SHA256SUMS over the named files of `dir` and signs it as `identity`. */
export async function resign(
  sigstore: LocalSigstore,
  dir: string,
  identity: SigningIdentity,
  names: string[],
): Promise<void> {
  const files = [];
  for (const name of names) files.push({ name, sha256: (await sha256File(join(dir, name))).sha256 });
  const sums = formatChecksums(files);
  writeFileSync(join(dir, "SHA256SUMS"), sums);
  writeFileSync(
    join(dir, "SHA256SUMS.sigstore.json"),
    JSON.stringify(await sigstore.signMessage(Buffer.from(sums), identity)),
  );
}

export function removeAll(...dirs: string[]): void {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}
