import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli, temporaryDirectory } from "./helpers.js";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

let release: { path: string; remove: () => void };
let cwd: string;

function write(name: string, content: string): void {
  writeFileSync(join(cwd, name), content);
}

function sums(files: Record<string, string>): string {
  return Object.entries(files)
    .map(([name, content]) => `${sha256(content)}  ${name}\n`)
    .join("");
}

beforeEach(() => {
  release = temporaryDirectory("ironclaw-cli-verify-");
  cwd = release.path;
  write("app.tar.gz", "archive");
  write("app.zip", "zip");
  write("SHA256SUMS", sums({ "app.tar.gz": "archive", "app.zip": "zip" }));
});
afterEach(() => release.remove());

describe("ironclaw checksums verify", () => {
  it("passes with one OK line per file and a summary", async () => {
    const result = await runCli(["checksums", "verify"], { cwd });
    expect(result).toEqual({
      code: 0,
      stdout: "app.tar.gz: OK\napp.zip: OK\n2 files: 2 OK; verified\n",
      stderr: "",
    });
  });

  it("exits 1 on a mismatch and shows what was expected and found", async () => {
    write("app.zip", "tampered");
    const result = await runCli(["checksums", "verify"], { cwd });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("app.zip: FAILED\n");
    expect(result.stdout).toContain(`  expected sha256 ${sha256("zip")}\n`);
    expect(result.stdout).toContain(`  found    sha256 ${sha256("tampered")}\n`);
    expect(result.stdout).toContain("2 files: 1 OK, 1 FAILED; NOT verified\n");
  });

  it("exits 1 when a listed file is missing", async () => {
    write("SHA256SUMS", sums({ "app.tar.gz": "archive", "gone.tar.gz": "x" }));
    const result = await runCli(["checksums", "verify"], { cwd });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^gone\.tar\.gz: MISSING \(listed in .*SHA256SUMS, not found in /m);
  });

  it("skips missing files only with --ignore-missing, and says so", async () => {
    write("SHA256SUMS", sums({ "app.tar.gz": "archive", "gone.tar.gz": "x" }));
    const result = await runCli(["checksums", "verify", "--ignore-missing"], { cwd });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("gone.tar.gz: MISSING (ignored: --ignore-missing)\n");
    expect(result.stdout).toContain("2 files: 1 OK, 1 MISSING (ignored); verified\n");
  });

  it("exits 1 with --ignore-missing when nothing at all was verified", async () => {
    write("SHA256SUMS", sums({ "gone.tar.gz": "x" }));
    const result = await runCli(["checksums", "verify", "--ignore-missing"], { cwd });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("NOT verified: no file was checked");
  });

  it("with names, checks only those and demands each be listed by its exact name", async () => {
    write("SHA256SUMS", sums({ "app.tar.gz.bak": "archive", "app.zip": "zip" }));
    const selected = await runCli(["checksums", "verify", "app.zip"], { cwd });
    expect(selected.code).toBe(0);
    expect(selected.stdout).toBe("app.zip: OK\n1 file: 1 OK; verified\n");
    const trap = await runCli(["checksums", "verify", "app.tar.gz"], { cwd });
    expect(trap.code).toBe(1);
    expect(trap.stdout).toContain("app.tar.gz: NOT LISTED (no line for this exact name in");
  });

  it("refuses --ignore-missing together with names", async () => {
    const result = await runCli(["checksums", "verify", "--ignore-missing", "app.zip"], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("IC_USAGE");
  });

  it("exits 2 on a malformed SHA256SUMS, naming the code and the line", async () => {
    write("SHA256SUMS", `${sha256("archive")}  app.tar.gz\n${sha256("zip")} app.zip\n`);
    const result = await runCli(["checksums", "verify"], { cwd });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^ironclaw: error IC_CHECKSUMS_MALFORMED_LINE: line 2: /);
  });

  it("exits 2 on an empty SHA256SUMS and on a name that leaves the directory", async () => {
    write("SHA256SUMS", "");
    expect((await runCli(["checksums", "verify"], { cwd })).stderr).toContain("IC_CHECKSUMS_EMPTY");
    write("SHA256SUMS", `${sha256("x")}  ../outside\n`);
    const traversal = await runCli(["checksums", "verify"], { cwd });
    expect(traversal.code).toBe(2);
    expect(traversal.stderr).toContain("IC_CHECKSUMS_NAME_TRAVERSAL");
  });

  it("exits 3 when the checksums file does not exist", async () => {
    const result = await runCli(["checksums", "verify", "--file", "nope/SHA256SUMS"], { cwd });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain("IC_FILE_MISSING");
  });

  it("resolves names against --dir, and --file's own directory by default", async () => {
    mkdirSync(join(cwd, "lists"));
    writeFileSync(join(cwd, "lists", "SUMS"), sums({ "app.zip": "zip" }));
    const beside = await runCli(["checksums", "verify", "--file", "lists/SUMS"], { cwd });
    expect(beside.code).toBe(1);
    expect(beside.stdout).toContain("app.zip: MISSING");
    const elsewhere = await runCli(["checksums", "verify", "--file", "lists/SUMS", "--dir", "."], { cwd });
    expect(elsewhere.code).toBe(0);
  });

  it("reads the checksums from standard input with --file -", async () => {
    const piped = sums({ "app.zip": "zip" });
    const result = await runCli(["checksums", "verify", "--file", "-"], { cwd, stdin: piped });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("app.zip: OK\n1 file: 1 OK; verified\n");
    const trap = await runCli(["checksums", "verify", "--file", "-", "app.tar.gz"], { cwd, stdin: piped });
    expect(trap.stdout).toContain(
      "NOT LISTED (no line for this exact name in the checksums on standard input)",
    );
    const empty = await runCli(["checksums", "verify", "--file", "-"], { cwd, stdin: "" });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain("IC_CHECKSUMS_EMPTY");
  });

  it("refuses standard input past the size limit without parsing it", async () => {
    const huge = Buffer.alloc(16 * 1024 * 1024 + 1, 0x61);
    const result = await runCli(["checksums", "verify", "--file", "-"], { cwd, stdin: huge });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("IC_CHECKSUMS_TOO_LARGE");
  });

  it("prints a JSON report with --json", async () => {
    write("app.zip", "tampered");
    const result = await runCli(["checksums", "verify", "--json"], { cwd });
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report).toEqual({
      schema: "https://ironclaw.dev/schemas/checksums-verify/v1",
      ok: false,
      checksumsFile: join(cwd, "SHA256SUMS"),
      directory: cwd,
      ignoreMissing: false,
      files: [
        {
          name: "app.tar.gz",
          status: "OK",
          expectedSha256: sha256("archive"),
          actualSha256: sha256("archive"),
          size: 7,
          error: null,
        },
        {
          name: "app.zip",
          status: "FAILED",
          expectedSha256: sha256("zip"),
          actualSha256: sha256("tampered"),
          size: 8,
          error: null,
        },
      ],
      summary: { total: 2, ok: 1, failed: 1, missing: 0, notListed: 0, error: 0 },
    });
  });

  it("prints errors as a JSON document with --json", async () => {
    write("SHA256SUMS", `${"a".repeat(40)}  app.zip\n`);
    const result = await runCli(["checksums", "verify", "--json"], { cwd });
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toEqual({
      schema: "https://ironclaw.dev/schemas/error/v1",
      ok: false,
      exitCode: 2,
      error: {
        code: "IC_CHECKSUMS_DIGEST_LENGTH",
        line: 1,
        message: "line 1: the digest has 40 hex digits; SHA-256 has 64 (40 is the length of SHA-1)",
      },
    });
  });

  it("colours the verdicts on a terminal, and never with NO_COLOR", async () => {
    const coloured = await runCli(["checksums", "verify"], { cwd, tty: true, env: {} });
    expect(coloured.stdout).toContain("app.zip: \u001b[32mOK\u001b[39m");
    const plain = await runCli(["checksums", "verify"], { cwd, tty: true, env: { NO_COLOR: "1" } });
    expect(plain.stdout).not.toContain("\u001b[");
  });

  it("escapes control characters in names given on the command line", async () => {
    const result = await runCli(["checksums", "verify", "evil\u001b[2Jname"], { cwd });
    expect(result.code).toBe(1);
    expect(result.stdout).not.toContain("\u001b");
    expect(result.stdout).toContain('"evil\\u001b[2Jname": NOT LISTED');
  });
});
