import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli, temporaryDirectory } from "./helpers.js";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

let work: { path: string; remove: () => void };
let cwd: string;

beforeEach(() => {
  work = temporaryDirectory("ironclaw-cli-create-");
  cwd = work.path;
  mkdirSync(join(cwd, "dist"));
  writeFileSync(join(cwd, "dist", "b.tar.gz"), "bee");
  writeFileSync(join(cwd, "dist", "a.zip"), "ay");
  writeFileSync(join(cwd, "dist", "empty"), "");
});
afterEach(() => work.remove());

describe("ironclaw checksums create", () => {
  it("prints canonical SHA256SUMS: sorted, two spaces, LF", async () => {
    const result = await runCli(["checksums", "create", "--dir", "dist", "b.tar.gz", "empty", "a.zip"], {
      cwd,
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${sha256("ay")}  a.zip\n${sha256("bee")}  b.tar.gz\n${sha256("")}  empty\n`);
  });

  it("writes what coreutils' sha256sum writes for the same files", async () => {
    const ours = await runCli(["checksums", "create", "a.zip", "b.tar.gz"], { cwd: join(cwd, "dist") });
    const coreutils = spawnSync("sha256sum", ["a.zip", "b.tar.gz"], {
      cwd: join(cwd, "dist"),
      encoding: "utf8",
    });
    expect(coreutils.status).toBe(0);
    expect(ours.stdout).toBe(coreutils.stdout);
  });

  it("writes --output atomically, and the result verifies", async () => {
    const created = await runCli(
      ["checksums", "create", "--dir", "dist", "--output", "dist/SHA256SUMS", "a.zip", "b.tar.gz"],
      { cwd },
    );
    expect(created.code).toBe(0);
    expect(created.stdout).toBe(`wrote ${join(cwd, "dist", "SHA256SUMS")} (2 files)\n`);
    expect(readdirSync(join(cwd, "dist")).filter((name) => name.endsWith(".tmp"))).toEqual([]);
    const verified = await runCli(["checksums", "verify", "--dir", "dist"], { cwd });
    expect(verified.code).toBe(0);
    expect(readFileSync(join(cwd, "dist", "SHA256SUMS"), "utf8")).toBe(
      `${sha256("ay")}  a.zip\n${sha256("bee")}  b.tar.gz\n`,
    );
  });

  it("leaves an existing output untouched when a file cannot be hashed", async () => {
    writeFileSync(join(cwd, "dist", "SHA256SUMS"), "previous\n");
    const result = await runCli(
      ["checksums", "create", "--dir", "dist", "--output", "dist/SHA256SUMS", "a.zip", "absent"],
      { cwd },
    );
    expect(result.code).toBe(3);
    expect(result.stderr).toContain("IC_FILE_MISSING");
    expect(readFileSync(join(cwd, "dist", "SHA256SUMS"), "utf8")).toBe("previous\n");
  });

  it.each([
    ["./a.zip", "IC_CHECKSUMS_NAME_NOT_CANONICAL"],
    ["../x", "IC_CHECKSUMS_NAME_TRAVERSAL"],
    ["/etc/hostname", "IC_CHECKSUMS_NAME_ABSOLUTE"],
  ])("refuses the name %s, which verify would refuse", async (name, code) => {
    const result = await runCli(["checksums", "create", "--dir", "dist", name], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(code);
  });

  it("refuses a file given twice", async () => {
    const result = await runCli(["checksums", "create", "--dir", "dist", "a.zip", "a.zip"], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("IC_CHECKSUMS_DUPLICATE_NAME");
  });

  it("prints a JSON report with --json", async () => {
    const result = await runCli(["checksums", "create", "--dir", "dist", "--json", "b.tar.gz", "a.zip"], {
      cwd,
    });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      schema: "https://ironclaw.dev/schemas/checksums-create/v1",
      ok: true,
      output: null,
      document: `${sha256("ay")}  a.zip\n${sha256("bee")}  b.tar.gz\n`,
      files: [
        { name: "a.zip", sha256: sha256("ay"), size: 2 },
        { name: "b.tar.gz", sha256: sha256("bee"), size: 3 },
      ],
    });
  });
});
