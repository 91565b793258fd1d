#!/usr/bin/env node
// node packages/action/scripts/bundle.mjs [--out FILE]
// Writes the Action's bundle, packages/action/dist/action.cjs (what action.yml runs), after `tsc -b`
// has built the bundler this imports. The bundle is a build output: it is not committed.
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ACTION_BUNDLE_NAME, bundleAction } from "../dist/bundle.js";

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const root = resolve(packageDir, "..", "..");
const { values } = parseArgs({ options: { out: { type: "string" } }, strict: true });
const out = resolve(values.out ?? resolve(packageDir, "dist", ACTION_BUNDLE_NAME));

const bytes = await bundleAction(root);
mkdirSync(dirname(out), { recursive: true });
// Written beside the target and renamed, so a runner never starts a half-written bundle.
const partial = `${out}.${process.pid}.partial`;
writeFileSync(partial, bytes);
renameSync(partial, out);
console.error(`${out}: ${bytes.length} bytes`);
