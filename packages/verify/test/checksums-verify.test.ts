import { createHash } from "node:crypto";
import {
  type FileDigest,
  formatChecksums,
  parseChecksums,
  VerifyError,
  verifyChecksums,
} from "@ironclaw/verify";
import { describe, expect, it } from "vitest";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** An in-memory directory: the verification logic needs no disk to be tested. */
function memoryFiles(files: Record<string, string>) {
  return async (name: string): Promise<FileDigest> => {
    const content = files[name];
    if (content === undefined) throw new VerifyError("IC_FILE_MISSING", `${name} does not exist`);
    if (content === "<unreadable>") throw new VerifyError("IC_FILE_READ", `cannot read ${name}`);
    if (content === "<changing>") throw new VerifyError("IC_FILE_CHANGED", `${name} grew`);
    return { sha256: sha256(content), size: content.length };
  };
}

const list = parseChecksums(
  Buffer.from(
    formatChecksums([
      { name: "app.tar.gz", sha256: sha256("app") },
      { name: "app.tar.gz.bak", sha256: sha256("backup") },
      { name: "app.zip", sha256: sha256("zip") },
    ]),
  ),
);

describe("verifyChecksums over every listed file", () => {
  it("passes when every listed file matches", async () => {
    const result = await verifyChecksums(
      list,
      { kind: "all" },
      memoryFiles({ "app.tar.gz": "app", "app.tar.gz.bak": "backup", "app.zip": "zip" }),
    );
    expect(result.ok).toBe(true);
    expect(result.files.map((file) => [file.name, file.status])).toEqual([
      ["app.tar.gz", "OK"],
      ["app.tar.gz.bak", "OK"],
      ["app.zip", "OK"],
    ]);
  });

  it("fails on one mismatch and reports both digests", async () => {
    const result = await verifyChecksums(
      list,
      { kind: "all" },
      memoryFiles({ "app.tar.gz": "tampered", "app.tar.gz.bak": "backup", "app.zip": "zip" }),
    );
    expect(result.ok).toBe(false);
    expect(result.files[0]).toEqual({
      name: "app.tar.gz",
      status: "FAILED",
      expectedSha256: sha256("app"),
      actualSha256: sha256("tampered"),
      size: 8,
    });
    expect(result.counts).toEqual({ OK: 2, FAILED: 1, MISSING: 0, NOT_LISTED: 0, ERROR: 0 });
  });

  it("fails when a listed file is missing, unless missing files are ignored", async () => {
    const files = memoryFiles({ "app.tar.gz": "app", "app.zip": "zip" });
    const strict = await verifyChecksums(list, { kind: "all" }, files);
    expect(strict.ok).toBe(false);
    expect(strict.files[1]?.status).toBe("MISSING");
    const lenient = await verifyChecksums(list, { kind: "all", ignoreMissing: true }, files);
    expect(lenient.ok).toBe(true);
    expect(lenient.counts.MISSING).toBe(1);
  });

  it("fails when every file is missing, even with missing files ignored", async () => {
    const result = await verifyChecksums(list, { kind: "all", ignoreMissing: true }, memoryFiles({}));
    expect(result.ok).toBe(false);
    expect(result.counts.MISSING).toBe(3);
  });

  it("fails on an unreadable file and on a file that changed while hashed", async () => {
    const result = await verifyChecksums(
      list,
      { kind: "all" },
      memoryFiles({ "app.tar.gz": "<unreadable>", "app.tar.gz.bak": "<changing>", "app.zip": "zip" }),
    );
    expect(result.ok).toBe(false);
    expect(result.files.map((file) => [file.status, file.error?.code])).toEqual([
      ["ERROR", "IC_FILE_READ"],
      ["FAILED", "IC_FILE_CHANGED"],
      ["OK", undefined],
    ]);
  });
});

describe("verifyChecksums over named files", () => {
  const files = memoryFiles({ "app.tar.gz": "app", "app.zip": "tampered" });

  it("checks only the named files", async () => {
    const result = await verifyChecksums(list, { kind: "named", names: ["app.tar.gz"] }, files);
    expect(result.ok).toBe(true);
    expect(result.files.map((file) => file.name)).toEqual(["app.tar.gz"]);
  });

  it("never matches a name against a longer or shorter listed name", async () => {
    const only = parseChecksums(Buffer.from(`${sha256("backup")}  app.tar.gz.bak\n`));
    const result = await verifyChecksums(only, { kind: "named", names: ["app.tar.gz"] }, files);
    expect(result.ok).toBe(false);
    expect(result.files).toEqual([{ name: "app.tar.gz", status: "NOT_LISTED" }]);
    const shorter = await verifyChecksums(list, { kind: "named", names: ["app.tar"] }, files);
    expect(shorter.files[0]?.status).toBe("NOT_LISTED");
  });

  it("fails when a named file is listed but absent", async () => {
    const result = await verifyChecksums(list, { kind: "named", names: ["app.tar.gz.bak"] }, files);
    expect(result.ok).toBe(false);
    expect(result.files[0]?.status).toBe("MISSING");
  });

  it("fails when any named file mismatches, and checks each name once", async () => {
    const result = await verifyChecksums(
      list,
      { kind: "named", names: ["app.tar.gz", "app.zip", "app.tar.gz"] },
      files,
    );
    expect(result.ok).toBe(false);
    expect(result.files.map((file) => [file.name, file.status])).toEqual([
      ["app.tar.gz", "OK"],
      ["app.zip", "FAILED"],
    ]);
  });

  it("lets an exception that is not ours escape rather than call it a verdict", async () => {
    await expect(
      verifyChecksums(list, { kind: "named", names: ["app.zip"] }, async () => {
        throw new TypeError("bug");
      }),
    ).rejects.toThrow(TypeError);
  });
});
