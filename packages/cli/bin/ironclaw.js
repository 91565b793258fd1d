#!/usr/bin/env node
"use strict";
// `ironclaw` in a checkout (`npx --no-install ironclaw`, `node packages/cli/bin/ironclaw.js`). It runs
// dist/ironclaw-dev.cjs, the CLI bundled as a release bundles it, which `npm run build` makes: one
// CommonJS script starts about twice as fast as tsc's hundreds of ES modules. It never runs code older
// than the tree: with no bundle, or a source (packages/*/src, packages/*/package.json) newer than it,
// it says so and runs nothing (exit 3). `sandbox` runs tsc's build instead, under the same rule (its
// self-test bundles the probe from the sources beside its own module, which the bundle has not).
// CommonJS (bin/package.json): an ES module entry alone costs ~3.5 ms more.
const { readdirSync, statSync } = require("node:fs");
const { join, relative } = require("node:path");

const root = join(__dirname, "..", "..", "..");
const bundle = join(__dirname, "..", "dist", "ironclaw-dev.cjs");
// Paths are joined with "/" in the walk (Windows takes it too): path.join costs ~1 ms over 400 paths.
const SOURCE = /\.(?:[cm]?[jt]s|json)$/;
const argv = process.argv.slice(2);

/**
 * The first source modified after `since(package name)` (ms), or undefined: the files under each
 * packages/NAME/src and, with `manifests`, each package.json. Dotfiles (editors' swap files) are not sources.
 */
function newerSource(since, manifests) {
  const packages = `${root}/packages`;
  for (const name of readdirSync(packages)) {
    if (name.startsWith(".")) continue;
    const limit = since(name);
    const manifest = `${packages}/${name}/package.json`;
    if (manifests && modified(manifest) > limit) return manifest;
    const found = newerIn(`${packages}/${name}/src`, limit);
    if (found !== undefined) return found;
  }
  return undefined;
}

function newerIn(dir, since) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    if (error.code === "ENOENT" || error.code === "ENOTDIR") return undefined;
    throw error;
  }
  for (const entry of entries) {
    if (entry.name.startsWith(".")) continue;
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) {
      const found = newerIn(path, since);
      if (found !== undefined) return found;
    } else if (SOURCE.test(entry.name) && modified(path) > since) return path;
  }
  return undefined;
}

/**
 * Follows links (an edit changes the target); a dangling one, a loop of links, or a path through a
 * file (packages/README.md/package.json) is no source at all: a rebuild could not change them.
 */
function modified(path) {
  try {
    return statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  } catch (error) {
    if (error.code === "ELOOP" || error.code === "ENOTDIR") return 0;
    throw error;
  }
}

/** What stops this command running, as [code, message], or undefined when what it runs is current. */
function problem() {
  const rebuild = `run \`npm run build\` in ${root}`;
  try {
    if (argv[0] === "sandbox") {
      // tsc -b rewrites a package's dist/.tsbuildinfo whenever it builds it again.
      const info = (name) => modified(`${root}/packages/${name}/dist/.tsbuildinfo`);
      const newer = newerSource(info, false);
      if (newer === undefined) return undefined;
      const built = relative(root, newer).split(/[\\/]/).slice(0, 2).join("/");
      return [
        "IC_DEV_BUILD_STALE",
        `${relative(root, newer)} changed after tsc last built ${built} (sandbox runs tsc's build); ${rebuild}`,
      ];
    }
    const built = statSync(bundle, { throwIfNoEntry: false });
    if (built === undefined)
      return ["IC_DEV_BUILD_MISSING", `this checkout has no ${relative(root, bundle)}; ${rebuild}`];
    const newer = newerSource(() => built.mtimeMs, true);
    if (newer === undefined) return undefined;
    return [
      "IC_DEV_BUILD_STALE",
      `${relative(root, newer)} changed after ${relative(root, bundle)} was built; ${rebuild}`,
    ];
  } catch (error) {
    return ["IC_DEV_BUILD_STALE", `cannot compare the sources with the build (${error.message}); ${rebuild}`];
  }
}

/** As the CLI reports an error: a JSON document under --json, else one line on stderr; exit 3. */
function fail(code, message) {
  const end = argv.indexOf("--");
  if ((end === -1 ? argv : argv.slice(0, end)).includes("--json")) {
    const document = {
      schema: "https://ironclaw.dev/schemas/error/v1",
      ok: false,
      exitCode: 3,
      error: { code, message },
    };
    process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
  } else process.stderr.write(`ironclaw: error ${code}: ${message}\n`);
  process.exitCode = 3;
}

const stopped = problem();
if (stopped !== undefined) fail(...stopped);
else if (argv[0] === "sandbox") {
  import("../dist/bundle-entry.js").catch((error) => fail("IC_DEV_BUILD_MISSING", error.message));
} else require(bundle);
