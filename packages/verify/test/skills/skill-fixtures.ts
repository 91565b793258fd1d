import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export const SKILL_MD = `---
name: pdf-summary
description: Summarise the PDFs in the workspace
version: 1.2.0
tools: [read_file, list_files]
---
List the PDFs with list_files, read each with read_file, and write a summary of five lines each.
`;

/** A skill directory with SKILL.md and one resource in a subdirectory. */
export async function skillDirectory(files: Record<string, string> = {}): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "ironclaw-skill-"));
  const all = { "SKILL.md": SKILL_MD, "templates/summary.txt": "Title:\nSummary:\n", ...files };
  for (const [path, text] of Object.entries(all)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
  return root;
}

/** mkfifo(1): FIFOs have no Node API. */
export function mkfifo(path: string): void {
  execFileSync("mkfifo", [path]);
}
