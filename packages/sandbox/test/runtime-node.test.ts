import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkSandboxNode, runningAsExecutable } from "../src/runtime-node.js";

// The standalone executable itself is run in packages/cli/test/released-runtimes.test.ts; here the
// check's decision, with "this process is one" given, since vitest runs under a plain node.
const dir = mkdtempSync(join(tmpdir(), "ironclaw-runtime-node-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("checkSandboxNode", () => {
  it("knows a plain node is not a single-executable application", () => {
    expect(runningAsExecutable()).toBe(false);
    expect(() => checkSandboxNode(process.execPath)).not.toThrow();
  });

  it("refuses this process's own binary when it is a standalone executable, saying what to do", () => {
    expect(() => checkSandboxNode(process.execPath, true)).toThrow(
      expect.objectContaining({
        code: "IC_SANDBOX_NEEDS_NODE",
        message: expect.stringContaining("node ironclaw.cjs"),
      }),
    );
  });

  it("refuses it under another name too: a symlink to the executable", () => {
    const link = join(dir, "node");
    symlinkSync(process.execPath, link);
    expect(() => checkSandboxNode(link, true)).toThrow(
      expect.objectContaining({ code: "IC_SANDBOX_NEEDS_NODE" }),
    );
  });

  it("lets another binary through: a node the caller named is not this executable", () => {
    expect(() => checkSandboxNode(join(dir, "elsewhere", "node"), true)).not.toThrow();
  });
});
