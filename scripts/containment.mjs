#!/usr/bin/env node
// The containment self-test: builds the probe, runs it in real sandboxes (bubblewrap) and prints one
// line per invariant and the verdict. --json prints the report, --out FILE writes it. Exit 0 only
// when contained; 1 when breached; 2 when the self-test could not run (no bwrap, no namespaces).
// Uses packages/cli/dist, which `npm ci` builds (prepare runs tsc -b).
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
let values;
try {
  ({ values } = parseArgs({
    options: { json: { type: "boolean", default: false }, out: { type: "string" } },
    strict: true,
  }));
} catch (error) {
  console.error(`containment: ${error.message}\nusage: npm run containment -- [--json] [--out FILE]`);
  process.exit(2);
}

// The same self-test as `ironclaw sandbox selftest`: the real egress broker, nothing approved.
const { renderContainment, selftest } = await import(
  pathToFileURL(join(root, "packages", "cli", "dist", "runtime", "containment.js")).href
).catch((error) => {
  console.error(`containment: packages/cli/dist is missing; run npm run build first (${error.message})`);
  process.exit(2);
});

let report;
const started = performance.now();
try {
  report = await selftest();
} catch (error) {
  console.error(`containment: FAILED to run: ${error.code ?? ""} ${error.message}`);
  process.exit(2);
}
const seconds = ((performance.now() - started) / 1000).toFixed(1);

if (values.out !== undefined) writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
if (values.json) console.log(JSON.stringify(report, null, 2));
else process.stdout.write(renderContainment(report, seconds));
process.exit(report.verdict === "contained" ? 0 : 1);
