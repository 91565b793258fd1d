#!/usr/bin/env node
// npm run release:local -- --out DIR [--version X.Y.Z] [--repo OWNER/NAME] [--targets …] [--allow-dirty]
//   [--containment REPORT]   ship a `npm run containment -- --out REPORT` report in the release set
// Builds a release and signs it with a throwaway local Sigstore, as the release workflow does with the
// real one; writes the instance's trusted_root.json beside the assets.
import { resolve } from "node:path";
import { loadRelease, parseFlags, report, sourceFor, targetsFrom } from "./release-options.mjs";

const started = Date.now();
const values = parseFlags({ repo: { type: "string" }, containment: { type: "string" } });
if (values.out === undefined) {
  console.error("--out DIR is required");
  process.exit(2);
}
const release = await loadRelease();
const outDir = resolve(values.out);
const result = await release.releaseLocally({
  source: sourceFor(release, values),
  outDir,
  ...(values.repo === undefined ? {} : { repository: values.repo }),
  ...(targetsFrom(values) === undefined ? {} : { targets: targetsFrom(values) }),
  ...(values.containment === undefined ? {} : { containmentReport: resolve(values.containment) }),
  log: (message) => console.error(message),
});
report(outDir, [...result.assets, "trusted_root.json"], result, started);
console.log(`signer: ${result.identity}`);
