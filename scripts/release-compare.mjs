#!/usr/bin/env node
// node scripts/release-compare.mjs DIR_A DIR_B
// Compares two builds byte for byte; prints each differing file with its first differing offset.
import { resolve } from "node:path";
import { loadRelease } from "./release-options.mjs";

const [left, right] = process.argv.slice(2);
if (left === undefined || right === undefined) {
  console.error("usage: node scripts/release-compare.mjs DIR_A DIR_B");
  process.exit(2);
}
const release = await loadRelease();
const differences = await release.compareTrees(resolve(left), resolve(right));
if (differences.length === 0) console.log(`identical: ${left} and ${right}, byte for byte`);
else {
  console.log(`NOT reproducible: ${differences.length} file(s) differ:`);
  for (const { name, detail } of differences) console.log(`  ${name}: ${detail}`);
  process.exitCode = 1;
}
