import { resolve } from "node:path";
import { readNamed } from "@ironclaw/verify/release";
import { type LoadedTrustedRoot, parseTrustedRoot, publicGoodTrustedRoot } from "@ironclaw/verify/sigstore";

/** The trusted root named by the workflow, or the Sigstore public-good root embedded in the action. */
export async function loadTrustedRoot(path: string | undefined, cwd: string): Promise<LoadedTrustedRoot> {
  if (path === undefined) return publicGoodTrustedRoot();
  const absolute = resolve(cwd, path);
  return parseTrustedRoot(
    await readNamed(
      absolute,
      "the trusted root",
      "the trusted-root input is a path relative to the working directory",
    ),
    absolute,
  );
}
