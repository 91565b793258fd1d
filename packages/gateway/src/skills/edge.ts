import { realpath } from "node:fs/promises";
import { resolve } from "node:path";
import type { LoadedTrustedRoot } from "@ironclaw/verify/sigstore";
import {
  readBounded,
  readSkillArchive,
  SKILL_LIMITS,
  type SkillSigner,
  skillDigest,
  verifySkillSignature,
} from "@ironclaw/verify/skills";
import type { PayloadOf } from "../changes/kinds.js";
import { GatewayError } from "../errors.js";
import type { SkillFacts, SkillsContext } from "./facts.js";
import { bundlePathOf, skillSourceProblem } from "./source-path.js";
import type { SkillStore } from "./store.js";

const MAX_BUNDLE = 1024 * 1024;

function codeAndMessage(error: unknown): { code: string; reason: string } {
  const code = (error as { code?: unknown }).code;
  return {
    code: typeof code === "string" && code.startsWith("IC_") ? code : "IC_SKILL_ARCHIVE_INVALID",
    reason: error instanceof Error ? error.message : String(error),
  };
}

/** The real path of `source` under `root`, or why there is none: no symbolic link may lead out of the root. */
async function containedPath(root: string, source: string): Promise<string | { reason: string }> {
  const real = await realpath(resolve(root, source)).catch(() => null);
  if (real === null) return { reason: `${source} does not exist under the skills root ${root}` };
  if (!real.startsWith(`${root}/`))
    return { reason: `${source} resolves to ${real}, outside the skills root ${root}` };
  return real;
}

async function readIn(
  root: string,
  source: string,
  what: string,
  maxBytes: number,
): Promise<Buffer | { reason: string }> {
  const path = await containedPath(root, source);
  if (typeof path !== "string") return path;
  // The real path has no links left; a FIFO or device is refused by readBounded, never read.
  return readBounded(path, what, { maxBytes }).catch((error: unknown) => ({
    reason: codeAndMessage(error).reason,
  }));
}

/**
 * The edge of the chain for a `skills` change: reads each archive and its bundle under the skills root
 * (bounded, regular files only, nothing outside the root), verifies the signature against the change's
 * signer policy and the archive's form, and keeps what verified in the store. The chain judges the facts.
 */
export async function gatherSkillFacts(options: {
  readonly root: string | null;
  readonly payload: PayloadOf<"skills">;
  readonly trustedRoot: () => LoadedTrustedRoot;
  readonly store: SkillStore;
}): Promise<SkillsContext> {
  const facts = new Map<string, SkillFacts>();
  if (options.root === null) return { root: null, facts };
  const root = await realpath(options.root).catch(() => null);
  if (root === null) {
    const reason = `the skills root ${options.root} cannot be read; create it or start \`ironclaw up\` with another --skills-root`;
    for (const skill of options.payload.skills) facts.set(skill.name, { read: "failed", reason });
    return { root: options.root, facts };
  }
  for (const skill of options.payload.skills) {
    if (skillSourceProblem(skill.source) !== undefined) continue;
    facts.set(skill.name, await factsOf(root, skill, options));
  }
  return { root, facts };
}

async function factsOf(
  root: string,
  skill: PayloadOf<"skills">["skills"][number],
  options: { readonly trustedRoot: () => LoadedTrustedRoot; readonly store: SkillStore },
): Promise<SkillFacts> {
  const archive = await readIn(root, skill.source, "the skill archive", SKILL_LIMITS.archiveBytes);
  if (!Buffer.isBuffer(archive)) return { read: "failed", reason: archive.reason };
  const bundleSource = bundlePathOf(skill.source);
  const bundle = await readIn(root, bundleSource, "the skill's bundle", MAX_BUNDLE);
  let signature: Extract<SkillFacts, { read: "ok" }>["signature"];
  if (!Buffer.isBuffer(bundle) && bundle.reason.includes("does not exist")) {
    signature = {
      verified: false,
      code: "IC_SKILL_UNSIGNED",
      reason: `the skill is unsigned: there is no ${bundleSource} beside it`,
    };
  } else if (!Buffer.isBuffer(bundle)) {
    signature = { verified: false, code: "IC_FILE_NOT_REGULAR", reason: bundle.reason };
  } else {
    try {
      const found = verifySkillSignature({
        archive,
        bundle,
        bundleName: bundleSource,
        signer: skill.signer as SkillSigner,
        trustedRoot: options.trustedRoot(),
      });
      signature = { verified: true, identity: found.identity, issuer: found.issuer };
    } catch (error) {
      signature = { verified: false, ...codeAndMessage(error) };
    }
  }
  let checked: Extract<SkillFacts, { read: "ok" }>["archive"];
  try {
    const { manifest, digest } = readSkillArchive(archive);
    checked = { ok: true, name: manifest.name, version: manifest.version, tools: manifest.tools };
    if (signature.verified) {
      await options.store.put(digest, archive, manifest).catch((cause: unknown) => {
        throw new GatewayError(
          "IC_STATE_INVALID",
          `cannot keep the verified skill ${skill.name} in the state directory: ${(cause as Error).message}; check the disk`,
          { cause },
        );
      });
    }
  } catch (error) {
    checked = { ok: false, ...codeAndMessage(error) };
  }
  return { read: "ok", digest: skillDigest(archive), signature, archive: checked };
}
