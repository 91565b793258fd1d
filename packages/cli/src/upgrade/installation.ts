import { realpathSync } from "node:fs";
import { basename, dirname } from "node:path";
import { CliError } from "../errors.js";

/** What is running: a standalone executable, or the platform-independent bundle under some node. */
export interface Installation {
  readonly kind: "executable" | "node-bundle";
  /**
   * The file an upgrade replaces, with symbolic links resolved: a link (a package manager's bin
   * link, say) stays a link and its target is replaced. `.previous` and the lock sit beside it.
   */
  readonly path: string;
  readonly directory: string;
  /** The release asset that carries the replacement, and the file inside it. */
  readonly asset: (version: string) => string;
  readonly entry: string;
}

const OS: Partial<Record<NodeJS.Platform, string>> = { linux: "linux", darwin: "darwin", win32: "windows" };
const ARCH: Partial<Record<string, string>> = { x64: "amd64", arm64: "arm64" };

function isStandaloneExecutable(): boolean {
  try {
    // node:sea exists from Node 20.12; it says whether this process is a single-executable application.
    const sea = process.getBuiltinModule?.("node:sea") as { isSea(): boolean } | undefined;
    return sea?.isSea() ?? false;
  } catch {
    return false;
  }
}

export function detectInstallation(): Installation {
  if (isStandaloneExecutable()) {
    const os = OS[process.platform];
    const arch = ARCH[process.arch];
    if (os === undefined || arch === undefined) {
      throw new CliError(
        "IC_UPGRADE_NOT_INSTALLED",
        `no release is built for ${process.platform}/${process.arch}`,
      );
    }
    const entry = os === "windows" ? "ironclaw.exe" : "ironclaw";
    const path = resolveLinks(process.execPath);
    return {
      kind: "executable",
      path,
      directory: dirname(path),
      asset: (version) => `ironclaw_${version}_${os}_${arch}.${os === "windows" ? "zip" : "tar.gz"}`,
      entry,
    };
  }
  const script = process.argv[1];
  if (script !== undefined && basename(script) === "ironclaw.cjs") {
    const path = resolveLinks(script);
    return {
      kind: "node-bundle",
      path,
      directory: dirname(path),
      asset: (version) => `ironclaw_${version}_node.tar.gz`,
      entry: "ironclaw.cjs",
    };
  }
  throw new CliError(
    "IC_UPGRADE_NOT_INSTALLED",
    "this ironclaw is not an installed release (a standalone executable or ironclaw.cjs); upgrade a source checkout with git and npm ci",
  );
}

function resolveLinks(path: string): string {
  try {
    return realpathSync(path);
  } catch (error) {
    throw new CliError("IC_UPGRADE_NOT_INSTALLED", `cannot resolve ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
