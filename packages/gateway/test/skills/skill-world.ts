import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { githubWorkflowIdentity, LocalSigstore } from "@ironclaw/sigstore-local";
import { gzipDeterministic } from "@ironclaw/verify/archive";
import { type LoadedTrustedRoot, parseTrustedRoot } from "@ironclaw/verify/sigstore";
import { skillDigest, writeSkillTar } from "@ironclaw/verify/skills";
import { afterAll, beforeAll } from "vitest";

export const ISSUER = "https://token.actions.githubusercontent.com";
export const PUBLISHER = githubWorkflowIdentity({
  repository: "acme/skills",
  workflowPath: ".github/workflows/publish.yml",
  ref: "refs/heads/main",
  sha: "0123456789abcdef0123456789abcdef01234567",
});

export function skillMd(fields: { name?: string; version?: string; tools?: string } = {}): string {
  return `---
name: ${fields.name ?? "pdf-summary"}
description: Summarise the PDFs in the workspace
version: ${fields.version ?? "1.2.0"}
tools: ${fields.tools ?? "[read_file, list_files]"}
---
List the PDFs with list_files, read each with read_file, and write five lines on each.
`;
}

/** A skill archive in the canonical form, made from SKILL.md text (whatever it says: tests need bad ones). */
export function archiveOf(manifest: string): Buffer {
  return Buffer.from(gzipDeterministic(writeSkillTar([{ path: "SKILL.md", data: Buffer.from(manifest) }])));
}

export interface SkillWorld {
  sigstore: LocalSigstore;
  trustedRoot: LoadedTrustedRoot;
  /** Writes `archive` (and, unless `bundle: null`, a bundle over `signed ?? archive`) under `root`. */
  publish(
    root: string,
    source: string,
    archive: Buffer,
    options?: { signed?: Buffer; bundle?: null; identity?: typeof PUBLISHER },
  ): Promise<string>;
}

export function useSkillWorld(): SkillWorld {
  const world = {} as SkillWorld;
  beforeAll(async () => {
    world.sigstore = await LocalSigstore.start();
    world.trustedRoot = parseTrustedRoot(
      Buffer.from(JSON.stringify(world.sigstore.trustedRoot)),
      "local test instance",
    );
    world.publish = async (root, source, archive, options = {}) => {
      const path = join(root, source);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, archive);
      if (options.bundle !== null) {
        const bundle = await world.sigstore.signMessage(
          options.signed ?? archive,
          options.identity ?? PUBLISHER,
        );
        await writeFile(`${path}.sigstore.json`, JSON.stringify(bundle));
      }
      return skillDigest(archive);
    };
  });
  afterAll(async () => {
    await world.sigstore?.stop();
  });
  return world;
}

export function mkfifo(path: string): void {
  execFileSync("mkfifo", [path]);
}
