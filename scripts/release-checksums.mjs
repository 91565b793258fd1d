#!/usr/bin/env node
// node scripts/release-checksums.mjs DIR
// Writes DIR/SHA256SUMS over every asset in DIR except itself and its signature (DESIGN §2).
import { readdirSync } from "node:fs";
import { resolve } from "node:path";
import { loadRelease } from "./release-options.mjs";

const [dir] = process.argv.slice(2);
if (dir === undefined) {
  console.error("usage: node scripts/release-checksums.mjs DIR");
  process.exit(2);
}
const release = await loadRelease();
const assets = readdirSync(resolve(dir)).filter(
  (name) => name !== release.CHECKSUMS_NAME && name !== release.CHECKSUMS_BUNDLE_NAME,
);
process.stdout.write(await release.writeChecksums(resolve(dir), assets));
