import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { workspaceSources } from "../src/esbuild-inputs.js";

const ROOT = new URL("../../../", import.meta.url).pathname.replace(/\/$/, "");

function bundle(contents: string, packages: readonly string[]) {
  return build({
    stdin: { contents, resolveDir: ROOT, loader: "ts" },
    bundle: true,
    write: false,
    platform: "node",
    plugins: [workspaceSources(ROOT, packages)],
    logLevel: "silent",
  });
}

describe("workspaceSources", () => {
  it("resolves a workspace entry to its TypeScript source in the tree being built", async () => {
    const result = await bundle('export { VERIFY_ERROR_CODES } from "@ironclaw/verify/errors";', ["verify"]);
    expect(result.outputFiles[0]?.text).toContain("IC_CHECKSUMS_EMPTY");
  });

  it("refuses a workspace package the bundle may not contain", async () => {
    await expect(bundle('import "@ironclaw/cli";', ["verify"])).rejects.toThrow(
      /@ironclaw\/cli is not one of the packages this bundle may contain \(verify\)/,
    );
  });

  it("refuses an entry the package does not export", async () => {
    await expect(bundle('import "@ironclaw/verify/hashing";', ["verify"])).rejects.toThrow(
      /@ironclaw\/verify\/hashing: packages\/verify exports no \.\/hashing source/,
    );
  });
});
