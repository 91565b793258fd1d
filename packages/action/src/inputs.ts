import { assertSafeName } from "@ironclaw/verify/checksums";
import { isVerifyError } from "@ironclaw/verify/errors";
import { OFFICIAL_REPOSITORY, RELEASE_TAG } from "@ironclaw/verify/release";

/** Every input action.yml declares; a test holds the two lists equal. */
export const INPUT_NAMES = [
  "directory",
  "repository",
  "tag",
  "signer-workflow",
  "trusted-root",
  "artifacts",
] as const;

export type InputName = (typeof INPUT_NAMES)[number];

export interface ActionInputs {
  /** Where SHA256SUMS and the release's files are, relative to the working directory. */
  readonly directory: string;
  /** OWNER/REPO whose release workflow must have signed SHA256SUMS. */
  readonly repository: string;
  readonly tag?: string;
  readonly signerWorkflow?: string;
  /** A trusted_root.json; absent means the Sigstore public-good root embedded in the action. */
  readonly trustedRoot?: string;
  /** Names as SHA256SUMS lists them; absent means every file SHA256SUMS lists. */
  readonly artifacts?: readonly string[];
}

/** A workflow's `with:` that cannot be used; the message names the input and how to fix it. */
export class InputError extends Error {
  override readonly name = "InputError";
}

// GitHub's rules for owner and repository names, so a typo fails here rather than as a signer mismatch.
const REPOSITORY = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/;
const SIGNER_WORKFLOW = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}\/[^\s@]+$/;

/**
 * Reads and checks the inputs through `get` (core.getInput: trimmed, "" when not given). Every input
 * is read, and a malformed one is refused before any file is touched.
 */
export function readInputs(get: (name: InputName) => string): ActionInputs {
  const value = (name: InputName) => {
    const text = get(name);
    return text === "" ? undefined : text;
  };
  const repository = value("repository") ?? OFFICIAL_REPOSITORY;
  if (!REPOSITORY.test(repository) || repository.endsWith("/.") || repository.endsWith("/..")) {
    throw new InputError(
      `input repository is ${JSON.stringify(repository)}; expected OWNER/REPO such as ${OFFICIAL_REPOSITORY}. Fix it in the step's with:, or leave it out for the official repository`,
    );
  }
  const tag = value("tag");
  if (tag !== undefined && !RELEASE_TAG.test(tag)) {
    throw new InputError(
      `input tag is ${JSON.stringify(tag)}; expected a release tag vX.Y.Z such as v1.2.3, or no tag to accept whichever release signed SHA256SUMS`,
    );
  }
  const signerWorkflow = value("signer-workflow");
  if (signerWorkflow !== undefined && !SIGNER_WORKFLOW.test(signerWorkflow)) {
    throw new InputError(
      `input signer-workflow is ${JSON.stringify(signerWorkflow)}; expected OWNER/REPO/PATH without a ref, such as ${repository}/.github/workflows/release.yml`,
    );
  }
  const trustedRoot = value("trusted-root");
  const artifacts = artifactNames(get("artifacts"));
  return {
    directory: value("directory") ?? ".",
    repository,
    ...(tag === undefined ? {} : { tag }),
    ...(signerWorkflow === undefined ? {} : { signerWorkflow }),
    ...(trustedRoot === undefined ? {} : { trustedRoot }),
    ...(artifacts === undefined ? {} : { artifacts }),
  };
}

/**
 * One name per line, blank lines ignored. Each must be a name SHA256SUMS could list (no `..`, no
 * absolute paths), since it is matched against SHA256SUMS exactly and read inside the directory.
 */
function artifactNames(text: string): string[] | undefined {
  const names = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "");
  if (names.length === 0) return undefined;
  const seen = new Set<string>();
  for (const name of names) {
    try {
      assertSafeName(name);
    } catch (error) {
      if (!isVerifyError(error)) throw error;
      throw new InputError(
        `input artifacts lists ${JSON.stringify(name)}: ${error.code}: ${error.message}; expected file names as SHA256SUMS lists them, relative to the directory input`,
      );
    }
    if (seen.has(name)) {
      throw new InputError(`input artifacts lists ${JSON.stringify(name)} twice; list each file once`);
    }
    seen.add(name);
  }
  return names;
}
