import { execFileSync, spawnSync } from "node:child_process";
import {
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { ensureDevBundle } from "../../../test/support/dev-bundle.js";
import { skipRealSandbox } from "../../sandbox/test/sandbox-gate.js";
import { BIN, temporaryDirectory } from "./helpers.js";

const cli = fileURLToPath(new URL("..", import.meta.url));
const version = (JSON.parse(readFileSync(join(cli, "package.json"), "utf8")) as { version: string }).version;
const scratch = temporaryDirectory("ironclaw-dev-entry-");
afterAll(scratch.remove);

function run(bin: string, args: readonly string[], extra: readonly string[] = []) {
  const child = spawnSync(process.execPath, [...extra, bin, ...args], {
    cwd: scratch.path,
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "" },
    timeout: 20_000,
  });
  return { code: child.status, stdout: child.stdout, stderr: child.stderr, error: child.error };
}

describe("the checkout's ironclaw (bin/ironclaw.js)", () => {
  it("runs the one CommonJS bundle npm run build made, not tsc's modules, and reports the package's version", () => {
    // At exit, which of our files Node's CommonJS loader ran, and whether any ES module was imported.
    const probe = join(scratch.path, "loaded.cjs");
    writeFileSync(
      probe,
      `process.on("exit", () => process.stderr.write(JSON.stringify(Object.keys(require.cache).filter((f) => f.includes("packages"))) + "\\n"));`,
    );
    const result = run(BIN, ["--version"], ["--require", probe]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`${version}\n`);
    const loaded = JSON.parse(result.stderr.trim()) as string[];
    expect(loaded.map((file) => file.slice(cli.length))).toEqual([
      "bin/ironclaw.js",
      "dist/ironclaw-dev.cjs",
    ]);
  });

  it("is not an installed release: upgrade refuses it, and the bundle run directly", () => {
    for (const bin of [BIN, join(cli, "dist", "ironclaw-dev.cjs")]) {
      const result = run(bin, ["upgrade", "--base-url", "http://127.0.0.1:9/"]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("IC_UPGRADE_NOT_INSTALLED");
    }
  });

  it.skipIf(skipRealSandbox)(
    "runs sandbox selftest from tsc's build, which has the probe's sources",
    () => {
      const result = run(BIN, ["sandbox", "selftest", "--json"]);
      expect(result.code, result.stderr).toBe(0);
      expect((JSON.parse(result.stdout) as { verdict: string }).verdict).toBe("contained");
    },
    60_000,
  );
});

/**
 * A copy of the checkout's layout with stand-ins for the bundle and for tsc's build that say they
 * ran: what is under test is the gate in bin/ironclaw.js, which must never run code older than the tree.
 */
function fakeCheckout(name: string) {
  const root = join(scratch.path, name);
  const bin = join(root, "packages", "cli", "bin");
  mkdirSync(bin, { recursive: true });
  for (const file of ["ironclaw.js", "package.json"]) copyFileSync(join(cli, "bin", file), join(bin, file));
  copyFileSync(join(cli, "package.json"), join(root, "packages", "cli", "package.json"));
  const dist = join(root, "packages", "cli", "dist");
  mkdirSync(dist);
  const bundle = join(dist, "ironclaw-dev.cjs");
  writeFileSync(bundle, `process.stdout.write("bundle ran " + JSON.stringify(process.argv.slice(2)));`);
  writeFileSync(join(dist, "bundle-entry.js"), `process.stdout.write("tsc build ran");`);
  const sources = join(root, "packages", "verify", "src");
  mkdirSync(join(sources, "deep"), { recursive: true });
  writeFileSync(join(root, "packages", "verify", "package.json"), "{}");
  writeFileSync(join(sources, "index.ts"), "export {};");
  writeFileSync(join(sources, "deep", "parse.ts"), "export {};");
  const tsbuildinfo = join(root, "packages", "verify", "dist", ".tsbuildinfo");
  mkdirSync(dirname(tsbuildinfo));
  writeFileSync(tsbuildinfo, "{}");
  // Everything a day old, the bundle an hour old.
  const now = Date.now() / 1000;
  const age = (path: string, seconds: number) => utimesSync(path, now - seconds, now - seconds);
  for (const path of [
    join(root, "packages", "verify", "package.json"),
    join(root, "packages", "cli", "package.json"),
    join(sources, "index.ts"),
    join(sources, "deep", "parse.ts"),
  ])
    age(path, 86_400);
  age(bundle, 3600);
  age(tsbuildinfo, 3600);
  return { root, bin: join(bin, "ironclaw.js"), bundle, sources, tsbuildinfo, age };
}

describe("bin/ironclaw.js and a bundle older than the sources", () => {
  it("runs a bundle newer than every source, with the arguments given", () => {
    const checkout = fakeCheckout("fresh");
    const result = run(checkout.bin, ["verify", "--json"]);
    expect(result).toMatchObject({ code: 0, stdout: 'bundle ran ["verify","--json"]', stderr: "" });
  });

  it("runs nothing when a source under packages/*/src changed after the bundle, and names it", () => {
    const checkout = fakeCheckout("stale-source");
    checkout.age(join(checkout.sources, "deep", "parse.ts"), 60);
    const result = run(checkout.bin, ["--version"]);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      "ironclaw: error IC_DEV_BUILD_STALE: packages/verify/src/deep/parse.ts changed after " +
        `packages/cli/dist/ironclaw-dev.cjs was built; run \`npm run build\` in ${checkout.root}\n`,
    );
  });

  it("runs sandbox from tsc's build while tsc has built every package since its sources changed", () => {
    const checkout = fakeCheckout("sandbox");
    // The bundle's age does not matter to sandbox, which does not run it.
    checkout.age(checkout.bundle, 90_000);
    expect(run(checkout.bin, ["sandbox", "selftest"])).toMatchObject({ code: 0, stdout: "tsc build ran" });
    checkout.age(join(checkout.sources, "deep", "parse.ts"), 60);
    const result = run(checkout.bin, ["sandbox", "selftest"]);
    expect(result).toMatchObject({ code: 3, stdout: "" });
    expect(result.stderr).toBe(
      "ironclaw: error IC_DEV_BUILD_STALE: packages/verify/src/deep/parse.ts changed after tsc last built " +
        `packages/verify (sandbox runs tsc's build); run \`npm run build\` in ${checkout.root}\n`,
    );
    checkout.age(checkout.tsbuildinfo, 0);
    expect(run(checkout.bin, ["sandbox", "selftest"])).toMatchObject({ code: 0, stdout: "tsc build ran" });
    checkout.age(join(checkout.sources, "index.ts"), -60);
    expect(run(checkout.bin, ["sandbox"]).stderr).toContain(
      "packages/verify/src/index.ts changed after tsc last built packages/verify (",
    );
  });

  it("counts a package.json (its exports choose the sources bundled, the CLI's its version)", () => {
    const checkout = fakeCheckout("stale-manifest");
    checkout.age(join(checkout.root, "packages", "cli", "package.json"), 1);
    const result = run(checkout.bin, ["--version"]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain("IC_DEV_BUILD_STALE: packages/cli/package.json changed after");
  });

  it("answers --json with the CLI's error document", () => {
    const checkout = fakeCheckout("stale-json");
    checkout.age(join(checkout.sources, "index.ts"), 1);
    const result = run(checkout.bin, ["checksums", "verify", "--json"]);
    expect(result.code).toBe(3);
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toEqual({
      schema: "https://ironclaw.dev/schemas/error/v1",
      ok: false,
      exitCode: 3,
      error: {
        code: "IC_DEV_BUILD_STALE",
        message: `packages/verify/src/index.ts changed after packages/cli/dist/ironclaw-dev.cjs was built; run \`npm run build\` in ${checkout.root}`,
      },
    });
    // After `--`, --json is an argument, not the flag.
    expect(run(checkout.bin, ["verify", "--", "--json"]).stderr).toContain("IC_DEV_BUILD_STALE");
  });

  it("says there is no bundle when npm run build never ran (tsc -b alone)", () => {
    const checkout = fakeCheckout("missing");
    rmSync(checkout.bundle);
    const result = run(checkout.bin, ["--version"]);
    expect(result).toMatchObject({
      code: 3,
      stdout: "",
      stderr: `ironclaw: error IC_DEV_BUILD_MISSING: this checkout has no packages/cli/dist/ironclaw-dev.cjs; run \`npm run build\` in ${checkout.root}\n`,
    });
  });

  it("is not fooled by editors' dotfiles or non-sources, nor stopped by FIFOs, links to devices, loops or dangling links", () => {
    const checkout = fakeCheckout("hostile");
    for (const name of [".parse.ts.swp", "notes.md", "parse.ts~"]) {
      writeFileSync(join(checkout.sources, "deep", name), "x");
    }
    mkdirSync(join(checkout.sources, ".cache"));
    writeFileSync(join(checkout.sources, ".cache", "newer.ts"), "x");
    execFileSync("mkfifo", [join(checkout.sources, "fifo.ts")]);
    checkout.age(join(checkout.sources, "fifo.ts"), 86_400);
    symlinkSync("/dev/zero", join(checkout.sources, "zero.ts"));
    symlinkSync("..", join(checkout.sources, "deep", "loop"));
    symlinkSync(join(checkout.sources, "gone.ts"), join(checkout.sources, "dangling.ts"));
    // A link to itself named as a source, and a file among the packages: a rebuild changes neither.
    symlinkSync("self.ts", join(checkout.sources, "self.ts"));
    writeFileSync(join(checkout.root, "packages", "README.md"), "x");
    checkout.age(join(checkout.root, "packages", "README.md"), 86_400);
    const fresh = run(checkout.bin, ["--version"]);
    expect(fresh.error).toBeUndefined();
    // /dev/zero is older than the bundle (the device was made at boot), so this one runs.
    expect(statSync("/dev/zero").mtimeMs).toBeLessThan(statSync(checkout.bundle).mtimeMs);
    expect(fresh).toMatchObject({ code: 0, stdout: 'bundle ran ["--version"]' });
    // An edit through a link counts: the link's target is the source.
    writeFileSync(join(checkout.root, "target.ts"), "x");
    symlinkSync(join(checkout.root, "target.ts"), join(checkout.sources, "linked.ts"));
    const linked = run(checkout.bin, ["--version"]);
    expect(linked.code).toBe(3);
    expect(linked.stderr).toContain("packages/verify/src/linked.ts changed after");
  });
});

describe("npm run build's dev bundle (scripts/bundle-dev.mjs)", () => {
  it("writes a CommonJS bundle that runs, dated from when the build began, and leaves nothing else", () => {
    const out = join(scratch.path, "built", "ironclaw-dev.cjs");
    mkdirSync(dirname(out));
    // The file system's clock, which is the one that dates sources.
    const mark = join(scratch.path, "mark");
    writeFileSync(mark, "");
    const before = statSync(mark).mtimeMs;
    execFileSync(process.execPath, [join(cli, "scripts", "bundle-dev.mjs"), "--out", out], { stdio: "pipe" });
    writeFileSync(mark, "");
    const after = statSync(mark).mtimeMs;
    const built = statSync(out).mtimeMs;
    expect(built).toBeGreaterThanOrEqual(before);
    expect(built).toBeLessThanOrEqual(after);
    expect(readdirSync(dirname(out))).toEqual(["ironclaw-dev.cjs"]);
    expect(run(out, ["--version"])).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: "" });
  }, 60_000);
});

describe("vitest's global setup (ensureDevBundle)", () => {
  it("rebuilds a stale bundle once and says why, leaves a fresh one alone, and fails when a rebuild does not help", () => {
    const checkout = fakeCheckout("setup");
    let rebuilds = 0;
    expect(ensureDevBundle(checkout.bin, () => rebuilds++)).toBeUndefined();
    expect(rebuilds).toBe(0);
    checkout.age(join(checkout.sources, "index.ts"), 60);
    const reason = ensureDevBundle(checkout.bin, () => {
      rebuilds++;
      checkout.age(checkout.bundle, 0);
    });
    expect(reason).toMatch(/^IC_DEV_BUILD_STALE: packages\/verify\/src\/index\.ts changed after/);
    expect(rebuilds).toBe(1);
    checkout.age(join(checkout.sources, "index.ts"), -60);
    expect(() => ensureDevBundle(checkout.bin, () => rebuilds++)).toThrow(
      /still refused after a rebuild: IC_DEV_BUILD_STALE/,
    );
    expect(rebuilds).toBe(2);
  });
});

describe("the README's build steps", () => {
  it("npm run build makes the dev bundle after tsc -b, and npm ci runs npm run build", () => {
    const manifest = JSON.parse(readFileSync(join(cli, "..", "..", "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    expect(manifest.scripts.prepare).toBe("npm run build");
    const steps = (manifest.scripts.build ?? "").split(" && ");
    expect(steps[0]).toBe("tsc -b");
    expect(steps).toContain("node packages/sandbox/scripts/bundle-agent.mjs");
    expect(steps.at(-1)).toBe("node packages/cli/scripts/bundle-dev.mjs");
  });
});
