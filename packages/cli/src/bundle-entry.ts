import { writeSync } from "node:fs";

/** The version, inlined by the release build (esbuild `define`); absent when run from source. */
declare const IRONCLAW_VERSION: string | undefined;

// The entry of `ironclaw` (bin/ironclaw.js, ironclaw.cjs, and the script inside the standalone
// executables). For `ironclaw verify` the files start hashing on worker threads first; the rest of the
// CLI is loaded only afterwards (esbuild defers a dynamically imported module's evaluation), so
// reading the release overlaps with loading and running the signature checks. Other commands load
// nothing of the hashing, and `--version` nothing at all.
// No top-level await: the executables run it as CommonJS.
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
  if (typeof IRONCLAW_VERSION === "string") printVersion(`${IRONCLAW_VERSION}\n`);
  else void import("./version.js").then(({ buildInfo }) => printVersion(`${buildInfo().version}\n`));
} else if (argv[0] === "verify") {
  void import("./hashing-prefetch.js").then(({ HashingPrefetch }) => {
    const prefetch = HashingPrefetch.start(argv, process.cwd());
    return import("./main.js").then(({ runFromProcess }) =>
      runFromProcess(prefetch === undefined ? {} : { prefetch }),
    );
  });
} else {
  void import("./main.js").then(({ runFromProcess }) => runFromProcess());
}

/**
 * Straight to descriptor 1: process.stdout is built on first use (streams, and net for a pipe), which
 * costs --version more than everything else it does. A descriptor that refuses (a non-blocking pipe
 * that is full, a closed one) gets the rest through process.stdout, which handles those as always.
 */
function printVersion(text: string): void {
  const bytes = Buffer.from(text);
  let written = 0;
  try {
    while (written < bytes.length) written += writeSync(1, bytes, written);
  } catch {
    process.stdout.write(bytes.subarray(written));
  }
}
