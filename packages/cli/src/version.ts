import { readFileSync } from "node:fs";

export interface BuildInfo {
  readonly version: string;
  readonly commit: string | undefined;
}

/** Replaced at bundle time by the release build (esbuild `define`); absent when run from source. */
declare const IRONCLAW_VERSION: string | undefined;
declare const IRONCLAW_COMMIT: string | undefined;

export function buildInfo(): BuildInfo {
  if (typeof IRONCLAW_VERSION === "string")
    return {
      version: IRONCLAW_VERSION,
      commit: typeof IRONCLAW_COMMIT === "string" ? IRONCLAW_COMMIT : undefined,
    };
  const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return { version: manifest.version, commit: undefined };
}
