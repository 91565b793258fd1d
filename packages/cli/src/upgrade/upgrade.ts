import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseChecksums, sha256File } from "@ironclaw/verify/checksums";
import {
  attestationsName,
  CHECKSUMS_BUNDLE_NAME,
  CHECKSUMS_NAME,
  compareVersions,
  OFFICIAL_REPOSITORY,
  RELEASE_TAG,
  type ReleaseArtifact,
  type ReleaseVerification,
  releaseBaseUrl,
  releasePolicy,
  verifyRelease,
} from "@ironclaw/verify/release";
import type { LoadedTrustedRoot } from "@ironclaw/verify/sigstore";
import type { CommandContext } from "../commands/context.js";
import { CliError } from "../errors.js";
import { progressOnTerminal } from "../terminal/progress.js";
import { buildInfo } from "../version.js";
import { extractEntry } from "./extract.js";
import { failpoint } from "./failpoint.js";
import { download, type Fetched, type HttpOptions } from "./http.js";
import { assertReplaceable, identityOf, previousPath, replaceInstalled, rollBack } from "./install.js";
import { detectInstallation, type Installation } from "./installation.js";
import { installedVersion } from "./installed-version.js";
import { type Interruptible, interruptible } from "./interrupt.js";
import { assetUrl, latestTag } from "./latest.js";
import { type InstallLock, lockInstallation } from "./lock.js";

export interface UpgradeOptions {
  readonly version?: string;
  readonly baseUrl?: string;
  readonly repo?: string;
  readonly check?: boolean;
  readonly allowDowngrade?: boolean;
  readonly rollback?: boolean;
  /** Connect and idle timeout of every request, never a cap on a whole download. */
  readonly timeoutMs: number;
  readonly trustedRoot: () => Promise<LoadedTrustedRoot>;
}

/** One file fetched: what was asked for, where it came from after redirects, how many bytes. */
export interface Download extends Fetched {
  readonly name: string;
}

export type UpgradeOutcome =
  | { readonly kind: "up-to-date"; readonly version: string; readonly downloads: readonly Download[] }
  | {
      readonly kind: "available";
      readonly from: string;
      readonly to: string;
      readonly commit: string;
      readonly downloads: readonly Download[];
    }
  | {
      readonly kind: "upgraded";
      readonly from: string;
      readonly to: string;
      readonly commit: string;
      readonly path: string;
      readonly previous: string;
      readonly downloads: readonly Download[];
    }
  | { readonly kind: "rolled-back"; readonly path: string; readonly previous: string };

/** Caps while reading: far above any release's files, far below what would hurt this machine. */
export const MAX_ARCHIVE_BYTES = 512 * 1024 * 1024;
export const MAX_METADATA_BYTES = 16 * 1024 * 1024;

/**
 * Upgrades or rolls back the installed file under its lock, so two runs never interleave, and so
 * that Ctrl-C or TERM leave no temporary files and no lock behind.
 */
export async function upgrade(options: UpgradeOptions, context: CommandContext): Promise<UpgradeOutcome> {
  const installation = detectInstallation();
  if (options.check === true) {
    // No lock (nothing is replaced), but a signal must still remove the downloads.
    const work = interruptible(() => {});
    try {
      return await checkOnly(installation, options, work);
    } finally {
      work.finish();
    }
  }
  await assertReplaceable(installation);
  await failpoint("before-lock");
  const lock = await lockInstallation(installation.path, installation.directory);
  const work = interruptible(() => lock.releaseSync());
  try {
    if (options.rollback === true) {
      await rollBack(installation);
      return { kind: "rolled-back", path: installation.path, previous: previousPath(installation) };
    }
    return await upgradeLocked(installation, options, context, work, lock);
  } finally {
    await lock.release();
    work.finish();
  }
}

interface Target {
  readonly base: URL;
  readonly repository: string;
  readonly tag: string;
  readonly from: string;
  readonly downloads: Download[];
}

/** Which release to install, judged against the version of the file that would be replaced. */
async function chooseTarget(
  installation: Installation,
  options: UpgradeOptions,
  http: HttpOptions,
): Promise<Target | { readonly upToDate: string; readonly downloads: Download[] }> {
  const repository = options.repo ?? OFFICIAL_REPOSITORY;
  const base = new URL(options.baseUrl ?? releaseBaseUrl(repository));
  const downloads: Download[] = [];
  const from = await installedVersion(installation).catch((error: unknown) => {
    if (options.allowDowngrade === true) return buildInfo().version;
    throw error;
  });
  let tag: string;
  if (options.version === undefined) {
    const latest = await latestTag(base, http);
    downloads.push({ name: "latest", ...latest.fetched });
    tag = latest.tag;
  } else tag = normalizeTag(options.version);
  const order = compareVersions(tag.slice(1), from);
  if (options.version === undefined && order === 0) return { upToDate: from, downloads };
  if (order <= 0 && options.allowDowngrade !== true) {
    throw new CliError(
      "IC_UPGRADE_REFUSED",
      `${tag} is ${order === 0 ? "the installed version" : `older than the installed v${from}`} (${installation.path}); installing it would undo fixes (a rollback attack, if you did not ask for it). Pass --allow-downgrade to install it anyway`,
    );
  }
  return { base, repository, tag, from, downloads };
}

async function checkOnly(
  installation: Installation,
  options: UpgradeOptions,
  interrupt: Interruptible,
): Promise<UpgradeOutcome> {
  const http: HttpOptions = { timeoutMs: options.timeoutMs, signal: interrupt.signal };
  const target = await chooseTarget(installation, options, http);
  if ("upToDate" in target)
    return { kind: "up-to-date", version: target.upToDate, downloads: target.downloads };
  return await inWorkDirectory(interrupt, async (directory) => {
    const release = await fetchRelease(target, options, directory, http, undefined);
    const assetName = installation.asset(target.tag.slice(1));
    // The signed SHA256SUMS gives the asset's digest, so its provenance can be checked without the download.
    const listed = parseChecksums(release.metadata.checksums).byName.get(assetName);
    const verified = await release.check([
      listed === undefined
        ? { name: assetName, problem: notListed(assetName) }
        : { name: assetName, sha256: listed.sha256 },
    ]);
    return {
      kind: "available",
      from: target.from,
      to: target.tag.slice(1),
      commit: verified.signer?.commit ?? "",
      downloads: target.downloads,
    };
  });
}

async function upgradeLocked(
  installation: Installation,
  options: UpgradeOptions,
  context: CommandContext,
  work: Interruptible,
  lock: InstallLock,
): Promise<UpgradeOutcome> {
  const http: HttpOptions = { timeoutMs: options.timeoutMs, signal: work.signal };
  // Taken before its version is asked, so a file swapped in at any later moment is noticed.
  const judged = await identityOf(installation.path);
  const target = await chooseTarget(installation, options, http);
  if ("upToDate" in target)
    return { kind: "up-to-date", version: target.upToDate, downloads: target.downloads };
  return await inWorkDirectory(work, async (directory) => {
    const release = await fetchRelease(target, options, directory, http, context);
    const to = target.tag.slice(1);
    const assetName = installation.asset(to);
    const archivePath = await release.fetchTo(assetName, MAX_ARCHIVE_BYTES);
    await failpoint("after-download");
    const verified = await release.check([
      { name: assetName, sha256: (await sha256File(archivePath)).sha256 },
    ]);
    const entry = await extractEntry(await readFile(archivePath), assetName, installation.entry);
    await release.check([
      { name: installation.entry, sha256: createHash("sha256").update(entry).digest("hex"), listed: false },
    ]);
    await failpoint("after-verify");
    work.signal.throwIfAborted();
    await lock.assertHeld();
    if ((await identityOf(installation.path)) !== judged) {
      throw new CliError(
        "IC_UPGRADE_REFUSED",
        `${installation.path} changed while this upgrade ran (another installer replaced it), so v${target.from}, which the upgrade was judged against, is no longer what it would replace; nothing was replaced. Run the upgrade again`,
      );
    }
    await replaceInstalled(installation, entry, work.temporary);
    return {
      kind: "upgraded",
      from: target.from,
      to,
      commit: verified.signer?.commit ?? "",
      path: installation.path,
      previous: previousPath(installation),
      downloads: target.downloads,
    };
  });
}

/** SHA256SUMS, its signature bundle and the attestations, and a checker bound to them. */
async function fetchRelease(
  target: Target,
  options: UpgradeOptions,
  directory: string,
  http: HttpOptions,
  context: CommandContext | undefined,
) {
  const fetchTo = async (asset: string, limit: number) => {
    const path = join(directory, asset);
    const progress =
      context === undefined ? undefined : progressOnTerminal(context.io.stderr, `downloading ${asset}`);
    const fetched = await download(assetUrl(target.base, target.tag, asset), target.base, path, {
      ...http,
      maxBytes: limit,
      ...(progress === undefined ? {} : { onProgress: (done, total) => progress.update(done, total) }),
    }).finally(() => progress?.finish());
    target.downloads.push({ name: asset, ...fetched });
    return path;
  };
  const attestations = attestationsName(target.tag.slice(1));
  const metadata = {
    checksums: await readFile(await fetchTo(CHECKSUMS_NAME, MAX_METADATA_BYTES)),
    signatureBundle: await readFile(await fetchTo(CHECKSUMS_BUNDLE_NAME, MAX_METADATA_BYTES)),
    attestations: {
      name: attestations,
      bytes: await readFile(await fetchTo(attestations, MAX_METADATA_BYTES)),
    },
  };
  const trustedRoot = await options.trustedRoot();
  const policy = releasePolicy({ repository: target.repository, tag: target.tag });
  const check = async (artifacts: ReleaseArtifact[]) =>
    requireVerified(
      await verifyRelease({ ...metadata, artifacts, trustedRoot, policy, mode: "full" }),
      target.tag,
    );
  return { metadata, fetchTo, check };
}

/** A private directory for the downloads; a TMPDIR that cannot hold one is the user's to fix. */
/**
 * Runs `work` with a private temporary directory for the downloads, registered with the signal
 * handling so that Ctrl-C removes it too, and removed when the work ends, whichever way.
 */
async function inWorkDirectory<T>(
  interrupt: Interruptible,
  work: (directory: string) => Promise<T>,
): Promise<T> {
  const parent = tmpdir();
  let directory: string;
  try {
    directory = await mkdtemp(join(parent, "ironclaw-upgrade-"));
  } catch (error) {
    throw new CliError(
      "IC_INSTALL_WRITE",
      `cannot create a temporary directory in ${parent} (${(error as Error).message}), so no release file was downloaded and nothing was installed: set TMPDIR to a writable directory`,
      { cause: error },
    );
  }
  interrupt.temporary.add(directory);
  try {
    return await work(directory);
  } finally {
    await rm(directory, { recursive: true, force: true });
    interrupt.temporary.delete(directory);
  }
}

function normalizeTag(version: string): string {
  const tag = version.startsWith("v") ? version : `v${version}`;
  if (!RELEASE_TAG.test(tag))
    throw new CliError("IC_USAGE", `--version ${JSON.stringify(version)} is not vX.Y.Z`);
  return tag;
}

function notListed(name: string) {
  return {
    code: "IC_RELEASE_NOT_LISTED" as const,
    message: `SHA256SUMS has no line for ${name}: the release has no build for this platform`,
  };
}

/** Any failed check stops the upgrade, naming each check that said no. */
function requireVerified(result: ReleaseVerification, tag: string): ReleaseVerification {
  if (result.ok) return result;
  const failures = result.artifacts.flatMap((artifact) =>
    artifact.checks
      .filter((c) => !c.ok)
      .map((c) => `${artifact.name}: ${c.check}: ${c.code === undefined ? "" : `${c.code}: `}${c.detail}`),
  );
  throw new CliError(
    "IC_UPGRADE_VERIFICATION",
    `${tag} did not verify, so nothing was installed:\n  ${failures.join("\n  ")}`,
  );
}

export type { Installation };
