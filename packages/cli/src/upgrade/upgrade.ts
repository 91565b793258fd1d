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
import { download, type HttpOptions } from "./http.js";
import { previousPath, replaceInstalled, rollBack } from "./install.js";
import { detectInstallation, type Installation } from "./installation.js";
import { assetUrl, latestTag } from "./latest.js";

export interface UpgradeOptions {
  readonly version?: string;
  readonly baseUrl?: string;
  readonly repo?: string;
  readonly check?: boolean;
  readonly allowDowngrade?: boolean;
  readonly rollback?: boolean;
  readonly timeoutMs: number;
  readonly trustedRoot: () => Promise<LoadedTrustedRoot>;
}

export type UpgradeOutcome =
  | { readonly kind: "up-to-date"; readonly version: string }
  | { readonly kind: "available"; readonly from: string; readonly to: string; readonly commit: string }
  | {
      readonly kind: "upgraded";
      readonly from: string;
      readonly to: string;
      readonly commit: string;
      readonly path: string;
      readonly previous: string;
    }
  | { readonly kind: "rolled-back"; readonly path: string; readonly previous: string };

/** Asset sizes far above any release: a server that sends more is refused. */
const MAX_ASSET_BYTES = 512 * 1024 * 1024;
const MAX_METADATA_BYTES = 16 * 1024 * 1024;

export async function upgrade(options: UpgradeOptions, context: CommandContext): Promise<UpgradeOutcome> {
  const installation = detectInstallation();
  if (options.rollback === true) {
    await rollBack(installation);
    return { kind: "rolled-back", path: installation.path, previous: previousPath(installation) };
  }
  const repository = options.repo ?? OFFICIAL_REPOSITORY;
  const base = new URL(options.baseUrl ?? releaseBaseUrl(repository));
  const http: HttpOptions = { timeoutMs: options.timeoutMs };
  const current = buildInfo().version;
  const tag = options.version === undefined ? await latestTag(base, http) : normalizeTag(options.version);
  const target = tag.slice(1);
  const order = compareVersions(target, current);
  if (options.version === undefined && order === 0) return { kind: "up-to-date", version: current };
  if (order <= 0 && options.allowDowngrade !== true) {
    throw new CliError(
      "IC_UPGRADE_REFUSED",
      `${tag} is ${order === 0 ? "the running version" : `older than the running v${current}`}; installing it would undo fixes (a rollback attack, if you did not ask for it). Pass --allow-downgrade to install it anyway`,
    );
  }

  const work = await mkdtemp(join(tmpdir(), "ironclaw-upgrade-"));
  try {
    const fetchTo = async (asset: string, limit: number) => {
      const path = join(work, asset);
      const progress = progressOnTerminal(context.io.stderr, `downloading ${asset}`);
      await download(assetUrl(base, tag, asset), path, {
        ...http,
        maxBytes: limit,
        onProgress: (done, total) => progress.update(done, total),
      });
      progress.finish();
      return path;
    };
    const attestations = attestationsName(target);
    const metadata = {
      checksums: await readFile(await fetchTo(CHECKSUMS_NAME, MAX_METADATA_BYTES)),
      signatureBundle: await readFile(await fetchTo(CHECKSUMS_BUNDLE_NAME, MAX_METADATA_BYTES)),
      attestations: {
        name: attestations,
        bytes: await readFile(await fetchTo(attestations, MAX_METADATA_BYTES)),
      },
    };
    const trustedRoot = await options.trustedRoot();
    const policy = releasePolicy({ repository, tag });
    const check = async (artifacts: ReleaseArtifact[]) =>
      requireVerified(
        await verifyRelease({ ...metadata, artifacts, trustedRoot, policy, mode: "full" }),
        tag,
      );
    const assetName = installation.asset(target);

    if (options.check === true) {
      // The signed SHA256SUMS gives the asset's digest, so its provenance can be checked without the download.
      const listed = parseChecksums(metadata.checksums).byName.get(assetName);
      const verified = await check([
        listed === undefined
          ? { name: assetName, problem: notListed(assetName) }
          : { name: assetName, sha256: listed.sha256 },
      ]);
      return { kind: "available", from: current, to: target, commit: verified.signer?.commit ?? "" };
    }

    const archivePath = await fetchTo(assetName, MAX_ASSET_BYTES);
    await failpoint("after-download");
    const verified = await check([{ name: assetName, sha256: (await sha256File(archivePath)).sha256 }]);
    const entry = await extractEntry(await readFile(archivePath), assetName, installation.entry);
    await check([
      { name: installation.entry, sha256: createHash("sha256").update(entry).digest("hex"), listed: false },
    ]);
    await failpoint("after-verify");
    await replaceInstalled(installation, entry);
    return {
      kind: "upgraded",
      from: current,
      to: target,
      commit: verified.signer?.commit ?? "",
      path: installation.path,
      previous: previousPath(installation),
    };
  } finally {
    await rm(work, { recursive: true, force: true });
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
