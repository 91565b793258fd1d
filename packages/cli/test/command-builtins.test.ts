import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BIN, temporaryDirectory } from "./helpers.js";

// Start-up (issue 20): a command loads the Node built-ins it uses, no others. Each module Node loads
// costs start-up time (node:fs/promises alone ~1 ms with the readline and watcher modules it pulls in).
// A preload records process.moduleLoadList as the built command exits.

let directory: { path: string; remove: () => void };

beforeEach(() => {
  directory = temporaryDirectory("ironclaw-builtins-");
  const content = "release bytes\n";
  writeFileSync(join(directory.path, "a.txt"), content);
  const digest = createHash("sha256").update(content).digest("hex");
  writeFileSync(join(directory.path, "SHA256SUMS"), `${digest}  a.txt\n`);
  writeFileSync(
    join(directory.path, "record.cjs"),
    `process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(join(directory.path, "loaded.txt"))}, process.moduleLoadList.join("\\n")));\n`,
  );
});
afterEach(() => directory.remove());

/** The built-in modules the built CLI loaded while running `argv`. */
function builtinsLoadedBy(argv: readonly string[]): { code: number | null; modules: Set<string> } {
  const child = spawnSync(process.execPath, ["--require", join(directory.path, "record.cjs"), BIN, ...argv], {
    cwd: directory.path,
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "" },
  });
  const list = readFileSync(join(directory.path, "loaded.txt"), "utf8").split("\n");
  return {
    code: child.status,
    modules: new Set(
      list.filter((entry) => entry.startsWith("NativeModule ")).map((entry) => entry.slice(13)),
    ),
  };
}

describe("built-in modules a command loads", () => {
  it("checksums verify does not load node:fs/promises", () => {
    const { code, modules } = builtinsLoadedBy(["checksums", "verify"]);
    expect(code).toBe(0);
    // The recorder sees what it should: hashing needs node:crypto.
    expect(modules.has("crypto")).toBe(true);
    expect(modules.has("fs/promises")).toBe(false);
  });

  it("checksums create --output does load it, for the durable write (the recorder can say yes)", () => {
    const { code, modules } = builtinsLoadedBy(["checksums", "create", "--output", "OUT", "a.txt"]);
    expect(code).toBe(0);
    expect(modules.has("fs/promises")).toBe(true);
  });
});
