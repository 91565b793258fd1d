import { basename, dirname, resolve } from "node:path";
import {
  hashArtifacts,
  listedNames,
  type ReleaseArtifact,
  type ReleaseFiles,
  type ReleaseInputs,
  readReleaseFiles,
  releasePolicy,
  toReleaseArtifacts,
  verifyRelease,
} from "@ironclaw/verify/release";
import { ExitCode } from "../exit-codes.js";
import { colorEnabled } from "../terminal/color.js";
import { type CommandContext, type JsonOption, writeJson } from "./context.js";
import { type ReleaseHashing, releaseDirectory } from "./release-hashing.js";
import { releaseDocument, renderReleaseReport } from "./release-report.js";
import { loadTrustedRoot } from "./verify-bundle-action.js";

export interface ReleaseVerifyFlags extends JsonOption {
  readonly dir?: string;
  readonly repo?: string;
  readonly tag?: string;
  readonly signerWorkflow?: string;
  readonly trustedRoot?: string;
  readonly checksumsOnly?: boolean;
}

async function run(
  dir: string,
  files: ReleaseFiles,
  artifacts: Promise<readonly ReleaseArtifact[]>,
  flags: ReleaseVerifyFlags,
  context: CommandContext,
): Promise<void> {
  const mode = flags.checksumsOnly === true ? "checksums-only" : "full";
  const policy = releasePolicy({
    ...(flags.repo === undefined ? {} : { repository: flags.repo }),
    ...(flags.tag === undefined ? {} : { tag: flags.tag }),
    ...(flags.signerWorkflow === undefined ? {} : { signerWorkflow: flags.signerWorkflow }),
  });
  const inputs: ReleaseInputs = {
    checksums: files.checksums,
    artifacts,
    policy,
    mode,
    ...(files.signatureBundle === undefined ? {} : { signatureBundle: files.signatureBundle }),
    ...(files.attestations === undefined ? {} : { attestations: files.attestations }),
    ...(mode === "full" ? { trustedRoot: await loadTrustedRoot(flags.trustedRoot, context.io) } : {}),
  };
  const result = await verifyRelease(inputs);
  if (flags.json === true) writeJson(context.io, releaseDocument(result, dir));
  else context.io.stdout.write(renderReleaseReport(result, colorEnabled(context.io.stdout, context.io.env)));
  context.setExitCode(result.ok ? ExitCode.ok : ExitCode.rejected);
}

/**
 * `hashing` is what the command started (or took from the prefetch); undefined when SHA256SUMS could
 * not be read to list the files, which readReleaseFiles then reports.
 */
export async function verifyReleaseAction(
  paths: string[],
  flags: ReleaseVerifyFlags,
  context: CommandContext,
  hashing: ReleaseHashing | undefined,
): Promise<void> {
  const dir = hashing?.dir ?? releaseDirectory(context.io.cwd, paths, flags.dir);
  const files = await readReleaseFiles(dir);
  const artifacts =
    hashing === undefined
      ? hashArtifacts(dir, listedNames(files.checksums))
      : hashing.digests.then((digests) => toReleaseArtifacts(hashing.names, digests));
  await run(dir, files, artifacts, flags, context);
}

export async function verifyBinaryAction(
  executable: string,
  flags: ReleaseVerifyFlags,
  context: CommandContext,
): Promise<void> {
  const path = resolve(context.io.cwd, executable);
  const dir = resolve(context.io.cwd, flags.dir ?? dirname(path));
  const files = await readReleaseFiles(dir);
  const artifacts = hashArtifacts(dirname(path), [basename(path)], { listed: false });
  await run(dir, files, artifacts, { ...flags, checksumsOnly: false }, context);
}
