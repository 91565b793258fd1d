import { resolve } from "node:path";
import { isVerifyError } from "@ironclaw/verify/errors";
import { readNamed as readInputFile } from "@ironclaw/verify/release";
import { MAX_BUNDLE_BYTES } from "@ironclaw/verify/sigstore";
import {
  packSkillDirectory,
  readSkillArchive,
  SKILL_LIMITS,
  type SkillSigner,
  verifySkill,
} from "@ironclaw/verify/skills";
import { CliError } from "../errors.js";
import { ExitCode } from "../exit-codes.js";
import { writeFileAtomic } from "../fs/atomic-write.js";
import { githubActionsIdToken } from "./actions-token.js";
import { type CommandContext, type JsonOption, writeJson } from "./context.js";
import { signSkillArchive } from "./skills-sign.js";
import { loadTrustedRoot } from "./verify-bundle-action.js";

export const SKILLS_PACK_SCHEMA = "https://ironclaw.dev/schemas/skills-pack/v1";
export const SKILLS_SIGN_SCHEMA = "https://ironclaw.dev/schemas/skills-sign/v1";
export const SKILLS_VERIFY_SCHEMA = "https://ironclaw.dev/schemas/skills-verify/v1";

export interface PackOptions extends JsonOption {
  readonly output: string;
}

export interface SignOptions extends JsonOption {
  readonly bundle?: string;
  readonly identityToken?: string;
  readonly fulcioUrl: string;
  readonly rekorUrl: string;
  readonly tsaUrl?: string;
}

export interface VerifyOptions extends JsonOption {
  readonly bundle?: string;
  readonly certificateIdentity?: string;
  readonly certificateOidcIssuer?: string;
  readonly repo?: string;
  readonly signerWorkflow?: string;
  readonly name?: string;
  readonly version?: string;
  readonly digest?: string;
  readonly trustedRoot?: string;
}

const readArchive = (path: string) =>
  readInputFile(path, "the skill archive", undefined, {
    maxBytes: SKILL_LIMITS.archiveBytes,
    tooLargeCode: "IC_SKILL_TOO_LARGE",
  });

export async function packAction(dir: string, options: PackOptions, context: CommandContext): Promise<void> {
  const { io } = context;
  const source = resolve(io.cwd, dir);
  const output = resolve(io.cwd, options.output);
  // An archive written into the skill would be packed into the next one, and change its digest.
  if (output.startsWith(`${source}/`)) {
    throw new CliError(
      "IC_USAGE",
      `write the archive outside the skill directory ${source}, not to ${output}`,
    );
  }
  const { archive, skill } = await packSkillDirectory(source);
  await writeFileAtomic(output, archive);
  const { name, version, tools } = skill.manifest;
  if (options.json === true) {
    writeJson(io, {
      schema: SKILLS_PACK_SCHEMA,
      ok: true,
      archive: output,
      name,
      version,
      digest: skill.digest,
      tools,
      files: skill.files,
    });
  } else {
    io.stdout.write(
      `packed ${name} ${version} → ${output}\n  digest  ${skill.digest}\n  files   ${skill.files.length}\n`,
    );
  }
  context.setExitCode(ExitCode.ok);
}

async function identityToken(options: SignOptions, context: CommandContext): Promise<string> {
  const { io } = context;
  const raw =
    options.identityToken !== undefined
      ? await readInputFile(resolve(io.cwd, options.identityToken), "the identity token", undefined, {
          maxBytes: 64 * 1024,
        })
      : (io.env.SIGSTORE_ID_TOKEN ?? (await githubActionsIdToken(io.env)));
  const token = raw?.toString().trim() ?? "";
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token)) {
    throw new CliError(
      "IC_USAGE",
      "no OIDC identity token: give --identity-token FILE, set SIGSTORE_ID_TOKEN to a JWT, or run in a GitHub Actions job with permissions: id-token: write",
    );
  }
  return token;
}

export async function signAction(
  archivePath: string,
  options: SignOptions,
  context: CommandContext,
): Promise<void> {
  const { io } = context;
  const path = resolve(io.cwd, archivePath);
  const archive = await readArchive(path);
  // Only a well-formed skill is signed: a signature should never vouch for an archive verify would refuse.
  const skill = readSkillArchive(archive);
  const token = await identityToken(options, context);
  const bundle = await signSkillArchive(archive, {
    token,
    fulcioURL: options.fulcioUrl,
    rekorURL: options.rekorUrl,
    ...(options.tsaUrl === undefined ? {} : { tsaURL: options.tsaUrl }),
  });
  const bundlePath = resolve(io.cwd, options.bundle ?? `${archivePath}.sigstore.json`);
  await writeFileAtomic(bundlePath, `${JSON.stringify(bundle)}\n`);
  const { name, version } = skill.manifest;
  if (options.json === true) {
    writeJson(io, {
      schema: SKILLS_SIGN_SCHEMA,
      ok: true,
      archive: path,
      bundle: bundlePath,
      name,
      version,
      digest: skill.digest,
    });
  } else {
    io.stdout.write(`signed ${name} ${version} (${skill.digest})\n  bundle  ${bundlePath}\n`);
  }
  context.setExitCode(ExitCode.ok);
}

/** cosign's flag pair, or gh's --repo [--signer-workflow]; never both, never neither. */
function signerFrom(options: VerifyOptions): SkillSigner {
  const keyless = options.certificateIdentity !== undefined || options.certificateOidcIssuer !== undefined;
  if (keyless && options.repo !== undefined) {
    throw new CliError(
      "IC_USAGE",
      "give --certificate-identity with --certificate-oidc-issuer, or --repo, not both",
    );
  }
  if (keyless) {
    if (options.certificateIdentity === undefined || options.certificateOidcIssuer === undefined) {
      throw new CliError("IC_USAGE", "--certificate-identity and --certificate-oidc-issuer go together");
    }
    if (options.signerWorkflow !== undefined)
      throw new CliError("IC_USAGE", "--signer-workflow goes with --repo");
    return { identity: options.certificateIdentity, issuer: options.certificateOidcIssuer };
  }
  if (options.repo === undefined) {
    throw new CliError(
      "IC_USAGE",
      "say who must have signed: --certificate-identity and --certificate-oidc-issuer, or --repo OWNER/NAME [--signer-workflow …]",
    );
  }
  if (options.signerWorkflow === undefined) return { repository: options.repo };
  const prefix = `${options.repo}/`;
  const workflow = options.signerWorkflow.startsWith(prefix)
    ? options.signerWorkflow.slice(prefix.length)
    : options.signerWorkflow;
  if (!workflow.startsWith(".github/workflows/")) {
    throw new CliError(
      "IC_USAGE",
      `--signer-workflow ${JSON.stringify(options.signerWorkflow)} must be a workflow of --repo ${options.repo}: ${prefix}.github/workflows/FILE.yml`,
    );
  }
  return { repository: options.repo, workflow };
}

export async function verifyAction(
  archivePath: string,
  options: VerifyOptions,
  context: CommandContext,
): Promise<void> {
  const { io } = context;
  const signer = signerFrom(options);
  const trustedRoot = await loadTrustedRoot(options.trustedRoot, io);
  const path = resolve(io.cwd, archivePath);
  const archive = await readArchive(path);
  const bundlePath = resolve(io.cwd, options.bundle ?? `${archivePath}.sigstore.json`);
  // A missing bundle is an unsigned skill (refused, exit 1), not a usage error.
  const bounded = await readInputFile(bundlePath, "the bundle", undefined, {
    maxBytes: MAX_BUNDLE_BYTES,
    tooLargeCode: "IC_BUNDLE_TOO_LARGE",
  }).catch((error: unknown) => {
    if (isVerifyError(error) && error.code === "IC_FILE_MISSING") return undefined;
    throw error;
  });
  const expected = {
    ...(options.name === undefined ? {} : { name: options.name }),
    ...(options.version === undefined ? {} : { version: options.version }),
    ...(options.digest === undefined ? {} : { digest: options.digest }),
  };
  const skill = verifySkill({
    archive,
    bundle: bounded,
    bundleName: bundlePath,
    signer,
    trustedRoot,
    expected,
  });
  const { name, version, description, tools } = skill.manifest;
  if (options.json === true) {
    writeJson(io, {
      schema: SKILLS_VERIFY_SCHEMA,
      ok: true,
      archive: path,
      bundle: bundlePath,
      skill: { name, version, description, tools, digest: skill.digest, files: skill.files },
      signer: skill.signer,
      trustedRoot: skill.trustedRoot,
    });
  } else {
    io.stdout.write(
      [
        `VERIFIED skill ${name} ${version}`,
        `  digest        ${skill.digest}`,
        `  signed by     ${skill.signer.identity}`,
        `  issuer        ${skill.signer.issuer}`,
        `  needs tools   ${tools.length === 0 ? "(none)" : tools.join(", ")} — a skill grants none of them`,
        `  trusted root  ${skill.trustedRoot}`,
        "",
      ].join("\n"),
    );
  }
  context.setExitCode(ExitCode.ok);
}
