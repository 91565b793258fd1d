import { chmod, symlink, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipDeterministic } from "@ironclaw/verify/archive";
import {
  packSkillDirectory,
  packSkillFiles,
  parseSkillManifest,
  readSkillArchive,
  writeSkillTar,
} from "@ironclaw/verify/skills";
import { describe, expect, it } from "vitest";
import { expectVerifyError } from "../sigstore/expect-code.js";
import { mkfifo, SKILL_MD, skillDirectory } from "./skill-fixtures.js";

async function rejects(promise: Promise<unknown>, code: string): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e as Error & { code?: string },
  );
  expect(error, `expected ${code}`).toBeDefined();
  expect((error as { code?: string }).code).toBe(code);
  return error as Error;
}

describe("skills pack: reproducible", () => {
  it("packs the same directory to the same bytes twice", async () => {
    const dir = await skillDirectory();
    const first = await packSkillDirectory(dir);
    const second = await packSkillDirectory(dir);
    expect(Buffer.from(first.archive).equals(Buffer.from(second.archive))).toBe(true);
    expect(first.skill.manifest).toMatchObject({
      name: "pdf-summary",
      version: "1.2.0",
      tools: ["list_files", "read_file"],
    });
    expect(first.skill.files.map((f) => f.path)).toEqual(["SKILL.md", "templates/summary.txt"]);
  });

  it("gives the same bytes whatever the mtimes, modes and umask of the files", async () => {
    const a = await skillDirectory();
    const previous = process.umask(0o077);
    let b: string;
    try {
      b = await skillDirectory();
    } finally {
      process.umask(previous);
    }
    await utimes(join(b, "SKILL.md"), new Date("2001-01-01"), new Date("2001-01-01"));
    await chmod(join(b, "templates/summary.txt"), 0o755);
    const packedA = await packSkillDirectory(a);
    const packedB = await packSkillDirectory(b);
    expect(Buffer.from(packedA.archive).equals(Buffer.from(packedB.archive))).toBe(true);
    // And the content does decide: one byte more is another archive.
    await writeFile(join(b, "templates/summary.txt"), "Title:\nSummary:\n\n");
    const changed = await packSkillDirectory(b);
    expect(changed.skill.digest).not.toBe(packedA.skill.digest);
  });

  it("refuses a symbolic link in the skill directory, even one to /dev/zero", async () => {
    const dir = await skillDirectory();
    await symlink("/dev/zero", join(dir, "zero"));
    const error = await rejects(packSkillDirectory(dir), "IC_SKILL_ENTRY_REFUSED");
    expect(error.message).toContain("a symbolic link");
  });

  it("refuses a FIFO in the skill directory without blocking on it", async () => {
    const dir = await skillDirectory();
    mkfifo(join(dir, "templates", "pipe"));
    const error = await rejects(packSkillDirectory(dir), "IC_SKILL_ENTRY_REFUSED");
    expect(error.message).toContain("a FIFO");
  });

  it("refuses a directory without SKILL.md, and one whose SKILL.md has no front matter", async () => {
    const dir = await skillDirectory();
    await writeFile(join(dir, "SKILL.md"), "Just instructions, no front matter.\n");
    const error = await rejects(packSkillDirectory(dir), "IC_SKILL_MANIFEST_INVALID");
    expect(error.message).toContain("no front matter");
    expectVerifyError(
      () => packSkillFiles([{ path: "README.md", data: Buffer.from("x") }]),
      "IC_SKILL_MANIFEST_INVALID",
    );
  });

  it("refuses hidden files and names a tar could not hold plainly", async () => {
    const dir = await skillDirectory({ ".env": "SECRET=1" });
    await rejects(packSkillDirectory(dir), "IC_SKILL_ARCHIVE_INVALID");
  });
});

describe("skills archive: read strictly", () => {
  const tarOf = (entries: { path: string; text: string }[]) =>
    writeSkillTar(entries.map((e) => ({ path: e.path, data: Buffer.from(e.text) })));

  it("reads back what pack wrote", async () => {
    const { archive } = await packSkillDirectory(await skillDirectory());
    const skill = readSkillArchive(archive);
    expect(skill.manifest.instructions).toContain("List the PDFs");
    expect(skill.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it("refuses a symbolic link, a FIFO or a device inside the archive, with what it is", () => {
    for (const [type, what] of [
      ["2", "a symbolic link"],
      ["6", "a FIFO"],
      ["3", "a character device"],
      ["1", "a hard link"],
    ] as const) {
      const tar = tarOf([{ path: "SKILL.md", text: SKILL_MD }]);
      tar.write(type, 156, "ascii");
      const error = expectVerifyError(
        () => readSkillArchive(gzipDeterministic(tar)),
        "IC_SKILL_ENTRY_REFUSED",
      );
      expect(error.message).toContain(what);
    }
  });

  it("refuses a tar that is not in the canonical form (another mtime), though its files are fine", () => {
    const tar = tarOf([{ path: "SKILL.md", text: SKILL_MD }]);
    tar.write("00000000001\0", 136, "ascii");
    const error = expectVerifyError(
      () => readSkillArchive(gzipDeterministic(tar)),
      "IC_SKILL_ARCHIVE_INVALID",
    );
    expect(error.message).toContain("canonical form");
  });

  it("refuses a path that climbs out, and a decompression bomb, before reading it all", () => {
    const climbing = Buffer.alloc(1536);
    climbing.write("../../etc/passwd", 0, "ascii");
    climbing.write("0", 156, "ascii");
    expectVerifyError(() => readSkillArchive(gzipDeterministic(climbing)), "IC_SKILL_ARCHIVE_INVALID");
    const bomb = gzipDeterministic(Buffer.alloc(17 * 1024 * 1024));
    expectVerifyError(() => readSkillArchive(bomb), "IC_SKILL_TOO_LARGE");
    expectVerifyError(() => readSkillArchive(Buffer.from("not gzip")), "IC_SKILL_ARCHIVE_INVALID");
  });
});

describe("SKILL.md front matter", () => {
  const withName = (name: string) => SKILL_MD.replace("name: pdf-summary", `name: ${name}`);

  it("reads name, description, version, tools and the instructions", () => {
    const manifest = parseSkillManifest(SKILL_MD);
    expect(manifest).toEqual({
      name: "pdf-summary",
      description: "Summarise the PDFs in the workspace",
      version: "1.2.0",
      tools: ["list_files", "read_file"],
      instructions: expect.stringContaining("five lines") as unknown as string,
    });
    const block = SKILL_MD.replace("tools: [read_file, list_files]", "tools:\n  - read_file\n  - http_fetch");
    expect(parseSkillManifest(block).tools).toEqual(["http_fetch", "read_file"]);
  });

  it("refuses constructor and __proto__ as names, with why", () => {
    expect(
      expectVerifyError(() => parseSkillManifest(withName("constructor")), "IC_SKILL_NAME_INVALID").message,
    ).toContain("Object.prototype");
    expectVerifyError(() => parseSkillManifest(withName("__proto__")), "IC_SKILL_NAME_INVALID");
  });

  it("refuses invisible Unicode anywhere, in the name or hidden in the instructions", () => {
    const zeroWidth = expectVerifyError(
      () => parseSkillManifest(withName("pdf\u200bsummary")),
      "IC_SKILL_MANIFEST_INVALID",
    );
    expect(zeroWidth.message).toContain("U+200B");
    const tags = `${SKILL_MD}Be helpful.\u{E0041}\u{E004C}\u{E004C}\n`;
    expect(expectVerifyError(() => parseSkillManifest(tags), "IC_SKILL_MANIFEST_INVALID").message).toContain(
      "U+E0041",
    );
  });

  it("refuses no front matter, an unclosed one, unknown or repeated keys, a version range, CRLF", () => {
    const cases: [string, string][] = [
      ["Instructions only.\n", "no front matter"],
      ["---\nname: a\n", "not closed"],
      [SKILL_MD.replace("version: 1.2.0", "version: 1.2.0\nallowed: everything"), "unknown key"],
      [SKILL_MD.replace("version: 1.2.0", "version: 1.2.0\nname: other"), "given twice"],
      [SKILL_MD.replace("version: 1.2.0", "version: ^1.2.0"), "exact version"],
      [SKILL_MD.replaceAll("\n", "\r\n"), "carriage returns"],
      [SKILL_MD.replace("tools: [read_file, list_files]", "tools: [read_file, read_file]"), "twice"],
      [SKILL_MD.replace("tools: [read_file, list_files]", "tools: [Read File]"), "not a tool name"],
      [SKILL_MD.slice(0, SKILL_MD.lastIndexOf("---\n") + 4), "no instructions"],
    ];
    for (const [text, why] of cases) {
      expect(
        expectVerifyError(() => parseSkillManifest(text), "IC_SKILL_MANIFEST_INVALID").message,
      ).toContain(why);
    }
  });
});
