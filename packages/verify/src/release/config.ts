/**
 * The release configuration: the one place that says whose releases these are. A fork changes
 * OFFICIAL_REPOSITORY. The signing identity of a release is this repository's release workflow at
 * the release tag (DESIGN §2); the release build and `ironclaw verify` / `upgrade` read it from here.
 */
export const OFFICIAL_REPOSITORY = "ironclaw-dev/ironclaw";
export const RELEASE_WORKFLOW_PATH = ".github/workflows/release.yml";
export const GITHUB_ACTIONS_ISSUER = "https://token.actions.githubusercontent.com";

export const CHECKSUMS_NAME = "SHA256SUMS";
export const CHECKSUMS_BUNDLE_NAME = "SHA256SUMS.sigstore.json";
export const attestationsName = (version: string) => `ironclaw_${version}.intoto.jsonl`;

export function releaseBaseUrl(repository: string): string {
  return `https://github.com/${repository}/releases`;
}

export function releaseIdentity(
  repository: string,
  tag: string,
  workflowPath = RELEASE_WORKFLOW_PATH,
): string {
  return `https://github.com/${repository}/${workflowPath}@refs/tags/${tag}`;
}

/** vX.Y.Z with an optional pre-release, as release tags are written. */
export const RELEASE_TAG = /^v(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?$/;

/**
 * `ironclaw_<version>_<os>_<arch>.tar.gz|zip`, `ironclaw_<version>_node.tar.gz`, `ironclaw_<version>.intoto.jsonl`,
 * and `ironclaw_<version>_containment.json`, the sandbox self-test's report.
 */
const ASSET =
  /^ironclaw_(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)(?:_(linux|darwin|windows)_(amd64|arm64)\.(tar\.gz|zip)|_node\.tar\.gz|\.intoto\.jsonl|_containment\.json)$/;

export interface AssetName {
  readonly version: string;
  readonly kind: "executable-archive" | "node-archive" | "attestations" | "containment-report";
  readonly os?: string;
  readonly arch?: string;
}

export function parseAssetName(name: string): AssetName | undefined {
  const match = ASSET.exec(name);
  if (match === null) return undefined;
  const [, version = "", os, arch] = match;
  if (name.endsWith(".intoto.jsonl")) return { version, kind: "attestations" };
  if (name.endsWith("_containment.json")) return { version, kind: "containment-report" };
  if (os === undefined || arch === undefined) return { version, kind: "node-archive" };
  return { version, kind: "executable-archive", os, arch };
}

/** Compares two X.Y.Z[-pre] versions: negative, zero or positive like a sort comparator (SemVer precedence). */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const match = RELEASE_TAG.exec(v.startsWith("v") ? v : `v${v}`);
    if (match === null) throw new Error(`${JSON.stringify(v)} is not a version X.Y.Z`);
    return { core: [Number(match[1]), Number(match[2]), Number(match[3])], pre: match[4] };
  };
  const [x, y] = [parse(a), parse(b)];
  for (let i = 0; i < 3; i++) {
    const difference = (x.core[i] ?? 0) - (y.core[i] ?? 0);
    if (difference !== 0) return difference;
  }
  if (x.pre === y.pre) return 0;
  if (x.pre === undefined) return 1;
  if (y.pre === undefined) return -1;
  const [pa, pb] = [x.pre.split("."), y.pre.split(".")];
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const [sa, sb] = [pa[i], pb[i]];
    if (sa === undefined) return -1;
    if (sb === undefined) return 1;
    const [na, nb] = [/^\d+$/.test(sa) ? Number(sa) : undefined, /^\d+$/.test(sb) ? Number(sb) : undefined];
    if (na !== undefined && nb !== undefined && na !== nb) return na - nb;
    if (na !== undefined && nb === undefined) return -1;
    if (na === undefined && nb !== undefined) return 1;
    if (sa !== sb) return sa < sb ? -1 : 1;
  }
  return 0;
}
