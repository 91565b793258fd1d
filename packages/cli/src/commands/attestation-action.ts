import { resolve } from "node:path";
import {
  buildAttestationPolicy,
  inspectAttestations,
  parseAttestationFile,
  verifyAttestations,
} from "@ironclaw/verify/attestation";
import { type DigestAlgorithm, digestFile } from "@ironclaw/verify/checksums";
import { VerifyError } from "@ironclaw/verify/errors";
import { readNamed as readInputFile } from "@ironclaw/verify/release";
import { describeTrustedRoot } from "@ironclaw/verify/sigstore";
import { CliError } from "../errors.js";
import { ExitCode } from "../exit-codes.js";
import { colorEnabled } from "../terminal/color.js";
import { progressOnTerminal } from "../terminal/progress.js";
import {
  inspectDocument,
  renderInspection,
  renderVerification,
  verificationDocument,
} from "./attestation-report.js";
import { type CommandContext, type JsonOption, writeJson } from "./context.js";
import { loadTrustedRoot } from "./verify-bundle-action.js";

export interface AttestationVerifyFlags extends JsonOption {
  readonly bundle: string;
  readonly owner?: string;
  readonly repo?: string;
  readonly signerRepo?: string;
  readonly signerWorkflow?: string;
  readonly signerDigest?: string;
  readonly certIdentity?: string;
  readonly certIdentityRegex?: string;
  readonly certOidcIssuer: string;
  readonly denySelfHostedRunners?: boolean;
  readonly sourceRef?: string;
  readonly sourceDigest?: string;
  readonly predicateType: string;
  readonly trustedRoot?: string;
  readonly customTrustedRoot?: string;
  /** gh's flag: when given, subjects are matched in this algorithm only. */
  readonly digestAlg?: string;
  readonly all?: boolean;
  readonly format?: string;
}

export type InspectFlags = JsonOption;

const DIGEST_ARGUMENT = /^(sha256|sha512):([0-9a-fA-F]+)$/;
const DIGEST_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };

function digestAlgorithm(value: string): DigestAlgorithm {
  if (value === "sha256" || value === "sha512") return value;
  throw new CliError("IC_USAGE", `--digest-alg must be sha256 or sha512, not ${JSON.stringify(value)}`);
}

function wantsJson(flags: AttestationVerifyFlags): boolean {
  if (flags.format !== undefined && flags.format !== "json") {
    throw new CliError("IC_USAGE", `--format supports only json, not ${JSON.stringify(flags.format)}`);
  }
  return flags.json === true || flags.format === "json";
}

interface ArtifactDigest {
  readonly path: string | null;
  readonly digests: Partial<Record<DigestAlgorithm, string>>;
}

/**
 * The artifact's digests: given as `alg:hex`, or hashed from the file in one streaming pass in both
 * sha256 and sha512 (or only `--digest-alg`), so each subject is matched in what it carries.
 */
async function artifactDigest(
  argument: string,
  only: DigestAlgorithm | undefined,
  context: CommandContext,
): Promise<ArtifactDigest> {
  const given = DIGEST_ARGUMENT.exec(argument);
  if (given !== null) {
    const [, givenText = "", hex = ""] = given;
    const givenAlgorithm = digestAlgorithm(givenText);
    if (only !== undefined && givenAlgorithm !== only) {
      throw new CliError(
        "IC_USAGE",
        `the artifact is given as ${givenAlgorithm}:…, but --digest-alg is ${only}`,
      );
    }
    if (hex.length !== DIGEST_LENGTH[givenAlgorithm]) {
      throw new VerifyError(
        "IC_ARTIFACT_DIGEST_INVALID",
        `a ${givenAlgorithm} digest has ${DIGEST_LENGTH[givenAlgorithm]} hex digits, not ${hex.length}`,
      );
    }
    return { path: null, digests: { [givenAlgorithm]: hex.toLowerCase() } };
  }
  const path = resolve(context.io.cwd, argument);
  const progress = progressOnTerminal(context.io.stderr, `hashing ${argument}`);
  const { digests } = await digestFile(path, only === undefined ? ["sha256", "sha512"] : [only], {
    onProgress: (done, total) => progress.update(done, total),
  });
  progress.finish();
  return { path, digests };
}

export async function verifyAttestationAction(
  artifactArgument: string,
  flags: AttestationVerifyFlags,
  context: CommandContext,
): Promise<void> {
  const { io } = context;
  const json = wantsJson(flags);
  const only = flags.digestAlg === undefined ? undefined : digestAlgorithm(flags.digestAlg);
  if (flags.trustedRoot !== undefined && flags.customTrustedRoot !== undefined) {
    throw new CliError("IC_USAGE", "give --trusted-root or --custom-trusted-root, not both");
  }
  const policy = buildAttestationPolicy({
    ...definedOnly({
      owner: flags.owner,
      repo: flags.repo,
      signerRepo: flags.signerRepo,
      signerWorkflow: flags.signerWorkflow,
      signerDigest: flags.signerDigest,
      certIdentity: flags.certIdentity,
      certIdentityRegex: flags.certIdentityRegex,
      sourceRef: flags.sourceRef,
      sourceDigest: flags.sourceDigest,
    }),
    certOidcIssuer: flags.certOidcIssuer,
    denySelfHostedRunners: flags.denySelfHostedRunners === true,
    predicateType: flags.predicateType,
  });
  const trustedRoot = await loadTrustedRoot(flags.trustedRoot ?? flags.customTrustedRoot, io);
  const bundlePath = resolve(io.cwd, flags.bundle);
  const entries = parseAttestationFile(await readInputFile(bundlePath, "the attestation bundle"), bundlePath);
  const artifact = await artifactDigest(artifactArgument, only, context);
  const result = verifyAttestations(entries, {
    trustedRoot,
    policy,
    artifact: { digests: artifact.digests },
    requireAll: flags.all === true,
  });
  const reportContext = {
    artifact: artifact.path ?? artifactArgument,
    digests: artifact.digests,
    bundle: bundlePath,
    trustedRoot: describeTrustedRoot(trustedRoot),
  };
  if (json) writeJson(io, verificationDocument(result, policy, reportContext));
  else io.stdout.write(renderVerification(result, reportContext, colorEnabled(io.stdout, io.env)));
  context.setExitCode(result.ok ? ExitCode.ok : ExitCode.rejected);
}

export async function inspectAttestationAction(
  file: string,
  flags: InspectFlags,
  context: CommandContext,
): Promise<void> {
  const path = resolve(context.io.cwd, file);
  const inspected = inspectAttestations(
    parseAttestationFile(await readInputFile(path, "the attestation bundle"), path),
  );
  if (flags.json === true) writeJson(context.io, inspectDocument(inspected, path));
  else context.io.stdout.write(renderInspection(inspected, path));
  context.setExitCode(ExitCode.ok);
}

function definedOnly<T extends Record<string, string | undefined>>(values: T): { [K in keyof T]?: string } {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as {
    [K in keyof T]?: string;
  };
}
