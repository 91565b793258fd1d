import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

// Start-up (issue 20): the released bundle loads, for a command, the modules its action imports, and
// every kilobyte is read and deserialized at each run. These tests read the import graph of an action
// from the sources, as the bundle is built from them, and name what must stay out of it.

const COMMANDS = fileURLToPath(new URL("../src/commands/", import.meta.url));

/** The source files (repository-relative) that bundling `entry` pulls in. */
async function importedSources(entry: string): Promise<string[]> {
  const result = await build({
    entryPoints: [`${COMMANDS}${entry}`],
    bundle: true,
    write: false,
    metafile: true,
    platform: "node",
    format: "esm",
    conditions: ["ironclaw-source"],
    logLevel: "silent",
  });
  return Object.keys(result.metafile.inputs);
}

describe("what an action imports", () => {
  it("verify-bundle does not import the release and attestation checks", async () => {
    const sources = await importedSources("verify-bundle-action.ts");
    // It does import what it uses: the bounded read and the signature check.
    expect(sources).toContainEqual(expect.stringMatching(/packages\/verify\/src\/files\/read-named\.ts$/));
    expect(sources).toContainEqual(
      expect.stringMatching(/packages\/verify\/src\/sigstore\/verify-signature\.ts$/),
    );
    const unwanted = sources.filter((source) =>
      /packages\/verify\/src\/(release\/|attestation\/|release\.ts|attestation\.ts)/.test(source),
    );
    expect(unwanted).toEqual([]);
  });

  it("attestation verify does import them (the graph is read, not assumed)", async () => {
    const sources = await importedSources("attestation-action.ts");
    expect(sources).toContainEqual(
      expect.stringMatching(/packages\/verify\/src\/release\/verify-release\.ts$/),
    );
  });
});
