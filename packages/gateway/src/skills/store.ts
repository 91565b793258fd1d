import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { readBounded, readSkillArchive, SKILL_LIMITS, type SkillManifest } from "@ironclaw/verify/skills";
import { replaceFileDurably } from "../durable-file.js";

/**
 * Verified skill archives, by digest, under `<state>/skills/`: what an approved change pins is what
 * the agent is served, whatever later happens to the skills root. Reads check the digest again.
 */
export class SkillStore {
  readonly #dir: string;
  readonly #manifests = new Map<string, SkillManifest>();

  constructor(stateDir: string) {
    this.#dir = join(stateDir, "skills");
  }

  #path(digest: string): string {
    return join(this.#dir, `${digest.replace(/^sha256:/, "")}.tar.gz`);
  }

  /** Keeps a verified archive; idempotent, since the name is the content's digest. */
  async put(digest: string, archive: Uint8Array, manifest: SkillManifest): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    await replaceFileDurably(this.#path(digest), archive, { mode: 0o600, exactMode: true });
    this.#manifests.set(digest, manifest);
  }

  /** The skill of that digest, read back and checked, or undefined when the store does not hold it intact. */
  async get(digest: string): Promise<SkillManifest | undefined> {
    const known = this.#manifests.get(digest);
    if (known !== undefined) return known;
    try {
      const bytes = await readBounded(this.#path(digest), "the stored skill", {
        maxBytes: SKILL_LIMITS.archiveBytes,
      });
      const skill = readSkillArchive(bytes);
      if (skill.digest !== digest) return undefined;
      this.#manifests.set(digest, skill.manifest);
      return skill.manifest;
    } catch {
      return undefined;
    }
  }
}
