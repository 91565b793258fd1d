#!/usr/bin/env node
// Bundles the CLI as a release bundles it into dist/ironclaw-dev.cjs, the script bin/ironclaw.js runs
// in a checkout: one CommonJS file starts about twice as fast as tsc's hundreds of ES modules.
// `npm run build` (and so `npm ci`, through prepare) runs this after tsc -b, whose packages/release
// build it uses. --out FILE writes elsewhere (the tests).
//
// The bundle's modification time is when this build began, read from the file system's own clock
// (the one source files' times come from): bin/ironclaw.js refuses to run it when any source is newer.
import { readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { bundleCli } from "../../release/dist/bundle.js";

const cli = dirname(dirname(fileURLToPath(import.meta.url)));
const root = dirname(dirname(cli));
const { values } = parseArgs({ options: { out: { type: "string" } }, strict: true });
const out = resolve(values.out ?? join(cli, "dist", "ironclaw-dev.cjs"));

/** The one call into packages/release: its bundle of the CLI, the script the node archive ships. */
async function bundleAsRelease(source) {
  return (await bundleCli(source, "node")).script;
}

const { version } = JSON.parse(readFileSync(join(cli, "package.json"), "utf8"));
// No git: a checkout's bundle is rebuilt from whatever the tree holds, so it names no commit (nothing
// prints it; --version prints the version only), and `npm ci` must work where there is no .git.
const source = { root, version, commit: "checkout", sourceDateEpoch: 0, dirty: false };

const partial = `${out}.${process.pid}.partial`;
try {
  writeFileSync(partial, "");
  const began = statSync(partial).mtimeMs / 1000;
  const bytes = await bundleAsRelease(source);
  writeFileSync(partial, bytes);
  utimesSync(partial, began, began);
  // Renamed into place whole: a CLI started meanwhile runs the old bundle or the new one.
  renameSync(partial, out);
  process.stdout.write(`dev bundle: ${out}\n`);
} catch (error) {
  rmSync(partial, { force: true });
  throw error;
}
