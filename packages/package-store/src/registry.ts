import { PackageStoreError } from "./errors.js";
import { type FetchLimits, fetchBytes } from "./http.js";
import { escapedName, type PackageSpec } from "./spec.js";

/** What the registry says of one version: where its tarball and its attestations are. */
export interface VersionDist {
  readonly integrity: string;
  readonly tarball: URL;
  /** Absent: the version was published without attestations. */
  readonly attestations?: URL;
}

/** A registry's JSON is foreign input: only own properties are read, never inherited ones. */
function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null && !Array.isArray(value) && Object.hasOwn(value, key)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

function metadata(url: URL, what: string): never {
  throw new PackageStoreError(
    "IC_PACKAGE_METADATA",
    `${url.href}: ${what}; it is not what npm's registry serves for this version, so nothing was fetched from it`,
  );
}

function urlIn(document: URL, value: unknown, what: string): URL {
  if (typeof value !== "string") metadata(document, `${what} is not a URL string`);
  try {
    return new URL(value);
  } catch {
    return metadata(document, `${what} ${JSON.stringify(value.slice(0, 200))} is not a URL`);
  }
}

/** GETs `<registry>/<name>/<version>`, npm's version document, and reads its dist. */
export async function fetchVersionDist(
  registry: URL,
  allowed: ReadonlySet<string>,
  spec: PackageSpec,
  limits: FetchLimits,
): Promise<VersionDist> {
  const base = registry.href.endsWith("/") ? registry.href : `${registry.href}/`;
  const url = new URL(`${escapedName(spec.name)}/${encodeURIComponent(spec.version)}`, base);
  const { status, body } = await fetchBytes(url, allowed, limits);
  if (status === 404) {
    throw new PackageStoreError(
      "IC_PACKAGE_NOT_FOUND",
      `the registry ${registry.origin} has no ${spec.name}@${spec.version} (HTTP 404); check the name and version`,
    );
  }
  if (status !== 200) {
    throw new PackageStoreError("IC_PACKAGE_NETWORK", `${url.href} answered HTTP ${status}; expected 200`);
  }
  let document: unknown;
  try {
    document = JSON.parse(body.toString("utf8"));
  } catch {
    metadata(url, "the answer is not JSON");
  }
  if (field(document, "name") !== spec.name || field(document, "version") !== spec.version) {
    metadata(
      url,
      `it describes ${JSON.stringify(field(document, "name"))}@${JSON.stringify(field(document, "version"))}, not ${spec.name}@${spec.version}`,
    );
  }
  const dist = field(document, "dist");
  const integrity = field(dist, "integrity");
  if (typeof integrity !== "string") metadata(url, "dist.integrity is missing");
  const tarball = urlIn(url, field(dist, "tarball"), "dist.tarball");
  const attestations = field(dist, "attestations");
  if (attestations === undefined) return { integrity, tarball };
  return {
    integrity,
    tarball,
    attestations: urlIn(url, field(attestations, "url"), "dist.attestations.url"),
  };
}
