import { readFileSync } from "node:fs";

export interface BuildInfo {
  readonly version: string;
  readonly commit: string | undefined;
}

/** Replaced at bundle time by the release build (esbuild `define`); absent when run from source. */
declare const IRONCLAW_BUILD_INFO: BuildInfo | undefined;

export function buildInfo(): BuildInfo {
  if (typeof IRONCLAW_BUILD_INFO !== "undefined") return IRONCLAW_BUILD_INFO;
  const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return { version: manifest.version, commit: undefined };
}
