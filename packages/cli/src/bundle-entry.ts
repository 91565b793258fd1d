import { HashingPrefetch } from "./hashing-prefetch.js";

// The entry of `ironclaw` (bin/ironclaw.js, ironclaw.mjs, and the script inside the standalone
// executables). For `ironclaw verify` the files start hashing on worker threads first; the rest of the
// CLI is loaded only afterwards (esbuild defers a dynamically imported module's evaluation), so
// reading the release overlaps with loading and running the signature checks.
// No top-level await: the executables run it as CommonJS.
const prefetch = HashingPrefetch.start(process.argv.slice(2), process.cwd());
void import("./main.js").then(({ runFromProcess }) =>
  runFromProcess(prefetch === undefined ? {} : { prefetch }),
);
