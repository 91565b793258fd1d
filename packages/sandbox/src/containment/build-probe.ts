import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleRuntime } from "../bundle-runtime.js";

export const PROBE_FILE = "probe.mjs";

/** The probe's entry beside this module: probe.ts when running from source, probe.js from dist. */
export function probeEntry(): string {
  const here = fileURLToPath(import.meta.url);
  return fileURLToPath(new URL(`./probe${extname(here)}`, import.meta.url));
}

/** Bundles the probe into outDir/probe.mjs and returns its path. */
export function buildProbe(outDir: string): Promise<string> {
  return bundleRuntime({ entry: probeEntry(), outDir, outName: PROBE_FILE });
}
