import { runFromProcess } from "./main.js";

// The entry of the release bundles (ironclaw.mjs, and the script inside the standalone executables).
// No top-level await: the executables run it as CommonJS.
void runFromProcess();
