import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bundleRuntime } from "../src/bundle-runtime.js";
import { buildProbe } from "../src/containment/build-probe.js";

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function scratch(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "ironclaw-bundle-test-"));
  dirs.push(dir);
  return dir;
}

describe("bundleRuntime", () => {
  it("makes one self-contained ESM file, the same bytes every time", async () => {
    const [first, second] = [await scratch(), await scratch()];
    const a = await buildProbe(first);
    const b = await buildProbe(second);
    const [bytesA, bytesB] = [await readFile(a), await readFile(b)];
    expect(bytesA.equals(bytesB)).toBe(true);
    const text = bytesA.toString("utf8");
    expect(text).not.toMatch(/from\s*"\.\//);
    expect(text).not.toContain("sourceMappingURL");
    expect(text).not.toContain(first);
    expect(text).not.toContain("packages/sandbox");
  });

  it("bundles a TypeScript entry with its imports", async () => {
    const dir = await scratch();
    await writeFile(join(dir, "helper.ts"), "export const greeting: string = 'hello';\n");
    await writeFile(
      join(dir, "main.ts"),
      "import { greeting } from './helper.js';\nconsole.log(greeting);\n",
    );
    const out = await bundleRuntime({
      entry: join(dir, "main.ts"),
      outDir: join(dir, "out"),
      outName: "main.mjs",
    });
    expect(await readFile(out, "utf8")).toContain("hello");
  });

  it("refuses an output name the sandbox would not run as ESM", async () => {
    const dir = await scratch();
    await expect(
      bundleRuntime({ entry: join(dir, "main.ts"), outDir: dir, outName: "main.js" }),
    ).rejects.toMatchObject({ code: "IC_SANDBOX_BUNDLE_FAILED" });
  });

  it("reports an entry that does not build", async () => {
    const dir = await scratch();
    await expect(
      bundleRuntime({ entry: join(dir, "missing.ts"), outDir: dir, outName: "x.mjs" }),
    ).rejects.toMatchObject({ code: "IC_SANDBOX_BUNDLE_FAILED" });
  });
});
