#!/usr/bin/env node
// node scripts/release-subjects.mjs DIR > subjects.txt
// The subjects the release's provenance must name, for actions/attest's subject-checksums.
import { resolve } from "node:path";
import { loadRelease } from "./release-options.mjs";

const [dir] = process.argv.slice(2);
if (dir === undefined) {
  console.error("usage: node scripts/release-subjects.mjs DIR");
  process.exit(2);
}
const release = await loadRelease();
process.stdout.write(await release.releaseSubjects(resolve(dir)));
