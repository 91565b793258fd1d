import { basename, dirname, resolve } from "node:path";
import { parseChecksums, sha256FilesInParallel } from "@ironclaw/verify/checksums";
import { isVerifyError, VerifyError } from "@ironclaw/verify/errors";
import {
  CHECKSUMS_BUNDLE_NAME,
  CHECKSUMS_NAME,
  type ReleaseArtifact,
  type ReleaseInputs,
  releasePolicy,
  verifyRelease,
} from "@ironclaw/verify/release";
import { ExitCode } from "../exit-codes.js";
import { readInputFile } from "../fs/read-input.js";
import { colorEnabled } from "../terminal/color.js";
import { type CommandContext, type JsonOption, writeJson } from "./context.js";
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

interface ReleaseFiles {
  readonly dir: string;
  readonly checksums: Buffer;
  readonly signatureBundle?: Buffer;
  readonly attestations?: { name: string; bytes: Buffer };
}

/** Reads what a release directory holds; only SHA256SUMS is required to get this far. */
async function readReleaseFiles(
  dir: string,
  context: CommandContext,
  wantSignature: boolean,
): Promise<ReleaseFiles> {
  const checksums = await readInputFile(resolve(dir, CHECKSUMS_NAME), "the release's checksums");
  if (!wantSignature) return { dir, checksums };
  const optional = async (name: string) => {
    try {
      return await readInputFile(resolve(dir, name), name);
    } catch (error) {
      if (isVerifyError(error) && error.code === "IC_FILE_MISSING") return undefined;
      throw error;
    }
  };
  const signatureBundle = await optional(CHECKSUMS_BUNDLE_NAME);
  // The attestations file is the one SHA256SUMS lists; a stray .jsonl in the directory counts for nothing.
  const listed = parseChecksums(checksums).entries.filter((entry) => entry.name.endsWith(".intoto.jsonl"));
  if (listed.length > 1) {
    throw new VerifyError(
      "IC_BUNDLE_INVALID",
      `SHA256SUMS lists ${listed.length} .intoto.jsonl files; a release has one`,
    );
  }
  const attestationsName = listed[0]?.name;
  const attestationsBytes = attestationsName === undefined ? undefined : await optional(attestationsName);
  void context;
  return {
    dir,
    checksums,
    ...(signatureBundle === undefined ? {} : { signatureBundle }),
    ...(attestationsName === undefined || attestationsBytes === undefined
      ? {}
      : { attestations: { name: attestationsName, bytes: attestationsBytes } }),
  };
}

/** Hashes every file on worker threads while the caller verifies the signature and the attestations. */
async function hashAll(paths: readonly string[], listed = true): Promise<ReleaseArtifact[]> {
  const digests = await sha256FilesInParallel(paths);
  return paths.map((path, index) => {
    const digest = digests[index];
    const name = basename(path);
    const unlisted = listed ? {} : { listed: false as const };
    return digest instanceof VerifyError || digest === undefined
      ? {
          name,
          problem: {
            code: digest?.code ?? "IC_FILE_READ",
            message: digest?.message ?? `${path} was not hashed`,
          },
          ...unlisted,
        }
      : { name, sha256: digest.sha256, ...unlisted };
  });
}

async function run(
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
  if (flags.json === true) writeJson(context.io, releaseDocument(result, files.dir));
  else context.io.stdout.write(renderReleaseReport(result, colorEnabled(context.io.stdout, context.io.env)));
  context.setExitCode(result.ok ? ExitCode.ok : ExitCode.rejected);
}

export async function verifyReleaseAction(
  paths: string[],
  flags: ReleaseVerifyFlags,
  context: CommandContext,
): Promise<void> {
  const { cwd } = context.io;
  const first = paths[0];
  const dir = resolve(cwd, flags.dir ?? (first === undefined ? "." : dirname(resolve(cwd, first))));
  const files = await readReleaseFiles(dir, context, flags.checksumsOnly !== true);
  const names =
    paths.length > 0
      ? paths.map((path) => resolve(cwd, path))
      : parseChecksums(files.checksums).entries.map((entry) => resolve(dir, entry.name));
  await run(files, hashAll(names), flags, context);
}

export async function verifyBinaryAction(
  executable: string,
  flags: ReleaseVerifyFlags,
  context: CommandContext,
): Promise<void> {
  const path = resolve(context.io.cwd, executable);
  const dir = resolve(context.io.cwd, flags.dir ?? dirname(path));
  const files = await readReleaseFiles(dir, context, true);
  await run(files, hashAll([path], false), { ...flags, checksumsOnly: false }, context);
}
