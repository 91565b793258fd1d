#!/usr/bin/env node
// npm run release:build -- --out DIR [--targets linux_amd64,node,…] [--version X.Y.Z] [--allow-dirty]
// Builds the release archives, copies the installers and writes SHA256SUMS for the current commit, unsigned.
import { resolve } from "node:path";
import { loadRelease, parseFlags, report, sourceFor, targetsFrom } from "./release-options.mjs";

const started = Date.now();
const values = parseFlags();
if (values.out === undefined) {
  console.error("--out DIR is required");
  process.exit(2);
}
const release = await loadRelease();
const outDir = resolve(values.out);
const result = await release.buildRelease({
  source: sourceFor(release, values),
  outDir,
  ...(targetsFrom(values) === undefined ? {} : { targets: targetsFrom(values) }),
  log: (message) => console.error(message),
});
const assets = [...result.archives, ...result.installers];
await release.writeChecksums(outDir, assets);
report(outDir, [...assets, "SHA256SUMS"], result, started);
