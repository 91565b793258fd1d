/** Skills: reproducible archives of instructions and resources, keyless-signed, verified offline. */

export { readBounded } from "./files/read-bounded.js";
export { packSkillFiles, readSkillArchive, type SkillArchive, skillDigest } from "./skills/archive.js";
export { SKILL_LIMITS, SKILL_MANIFEST } from "./skills/limits.js";
export { parseSkillManifest, type SkillManifest } from "./skills/manifest.js";
export { SKILL_NAME, SKILL_TOOL, SKILL_VERSION, skillNameProblem } from "./skills/names.js";
export { packSkillDirectory } from "./skills/pack-directory.js";
export {
  checkSkillSigner,
  describeSkillSigner,
  type SkillSigner,
  type SkillSignerFound,
  signaturePolicyFor,
} from "./skills/signer.js";
export { readSkillTar, type SkillFile, skillPathProblem, writeSkillTar } from "./skills/tar.js";
export {
  type VerifiedSkill,
  type VerifySkillOptions,
  verifySkill,
  verifySkillSignature,
} from "./skills/verify-skill.js";
