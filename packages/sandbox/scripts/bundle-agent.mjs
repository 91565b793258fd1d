#!/usr/bin/env node
// Bundles the scripted agent runtime (src/agent/main.ts) into runtime/agent.mjs, the one file a
// sandbox runs. `npm run build` (and so `npm ci`, through prepare) runs this after tsc.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleRuntime } from "../dist/index.js";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const file = await bundleRuntime({
  entry: join(root, "src", "agent", "main.ts"),
  outDir: join(root, "runtime"),
  outName: "agent.mjs",
});
process.stdout.write(`agent runtime: ${file}\n`);
