import { createHash } from "node:crypto";
import { lstat } from "node:fs/promises";
import { join } from "node:path";
import { type LoadedTrustedRoot, publicGoodTrustedRoot } from "@ironclaw/verify/sigstore";
import { PackageStoreError } from "./errors.js";
import { type FetchLimits, fetchBytes, parseOrigin } from "./http.js";
import { provenanceEntries, type VerifiedProvenance, verifyProvenance } from "./provenance.js";
import { fetchVersionDist } from "./registry.js";
import { checkSpec, integrityHex, type PackageSpec } from "./spec.js";
import { readTarball, sweepAbandoned, type UnpackLimits, writeStore } from "./unpack.js";

export const DEFAULT_REGISTRY = "https://registry.npmjs.org/";

export interface PackageStoreOptions {
  /** The state directory: packages live in `<stateDir>/packages/<sha512 hex>/`. */
  readonly stateDir: string;
  /** Default https://registry.npmjs.org/; HTTPS, or plain HTTP to loopback only. */
  readonly registry?: string;
  /** Other origins tarballs and attestations may come from (a CDN the registry names); default none. */
  readonly extraOrigins?: readonly string[];
  /** Whose signatures count; default the embedded public-good Sigstore root. */
  readonly trustedRoot?: LoadedTrustedRoot;
  readonly limits?: Partial<StoreLimits>;
}

export interface StoreLimits extends UnpackLimits {
  /** Version and attestations documents. */
  readonly maxDocumentBytes: number;
  /** The gzipped tarball. */
  readonly maxTarballBytes: number;
  readonly idleMs: number;
  readonly totalMs: number;
}

export const DEFAULT_LIMITS: StoreLimits = {
  maxDocumentBytes: 4 * 1024 * 1024,
  maxTarballBytes: 64 * 1024 * 1024,
  maxUnpackedBytes: 256 * 1024 * 1024,
  maxEntries: 20_000,
  idleMs: 15_000,
  totalMs: 120_000,
};

/** A package in the store, and why it is trusted. */
export interface InstalledPackage {
  readonly name: string;
  readonly version: string;
  readonly integrity: string;
  /** Read-only: the package's files (its package.json at the top). */
  readonly dir: string;
  /** Null only when the change said allowUnattested and the version has no provenance. */
  readonly provenance: VerifiedProvenance | null;
}

/** Where the package with this integrity lives in a state directory, whether it is there or not. */
export function packageDir(stateDir: string, integrity: string): string {
  return join(stateDir, "packages", integrityHex(integrity));
}

/**
 * npm packages for stdio MCP servers. `install` fetches the version document, the tarball and its
 * attestations from the configured registry, checks the integrity, verifies the provenance, and
 * unpacks read-only; nothing reaches the store unless every check passed.
 */
export class PackageStore {
  readonly stateDir: string;
  readonly registry: URL;
  readonly #allowed: ReadonlySet<string>;
  readonly #trustedRoot: LoadedTrustedRoot;
  readonly #limits: StoreLimits;
  /** Unpacking holds a whole package in memory: one at a time per store, so memory stays one package's. */
  #unpacking: Promise<void> = Promise.resolve();

  constructor(options: PackageStoreOptions) {
    this.stateDir = options.stateDir;
    this.registry = parseOrigin(options.registry ?? DEFAULT_REGISTRY, "the package registry");
    const extra = (options.extraOrigins ?? []).map((o) => parseOrigin(o, "a package origin").origin);
    this.#allowed = new Set([this.registry.origin, ...extra]);
    this.#trustedRoot = options.trustedRoot ?? publicGoodTrustedRoot();
    this.#limits = { ...DEFAULT_LIMITS, ...options.limits };
  }

  /** The package's directory if the store holds it; the broker runs servers from here. */
  async installed(spec: Pick<PackageSpec, "integrity">): Promise<string | undefined> {
    const dir = packageDir(this.stateDir, spec.integrity);
    const stat = await lstat(dir).catch(() => undefined);
    return stat?.isDirectory() === true ? dir : undefined;
  }

  /** Fetches, checks and unpacks one package; throws a PackageStoreError saying why when any check fails. */
  async install(spec: PackageSpec): Promise<InstalledPackage> {
    checkSpec(spec);
    const label = `${spec.name}@${spec.version}`;
    const documents = this.#fetchLimits(this.#limits.maxDocumentBytes);
    const dist = await fetchVersionDist(this.registry, this.#allowed, spec, documents);
    if (dist.integrity !== spec.integrity) {
      throw new PackageStoreError(
        "IC_PACKAGE_INTEGRITY",
        `${label}: the registry names integrity ${dist.integrity}, the change approves ${spec.integrity}; the package was republished or the change names another build`,
      );
    }
    const tarball = await fetchBytes(
      dist.tarball,
      this.#allowed,
      this.#fetchLimits(this.#limits.maxTarballBytes),
      "application/octet-stream",
    );
    if (tarball.status !== 200) {
      throw new PackageStoreError(
        "IC_PACKAGE_NETWORK",
        `${dist.tarball.href} answered HTTP ${tarball.status}`,
      );
    }
    const digest = createHash("sha512").update(tarball.body).digest();
    if (`sha512-${digest.toString("base64")}` !== spec.integrity) {
      throw new PackageStoreError(
        "IC_PACKAGE_INTEGRITY",
        `${label}: the tarball from ${dist.tarball.href} hashes to sha512-${digest.toString("base64")}, not the approved ${spec.integrity}; it was tampered with on the way or on the registry`,
      );
    }
    const provenance = await this.#provenance(spec, dist.attestations, digest.toString("hex"), documents);
    const dir = packageDir(this.stateDir, spec.integrity);
    await this.#oneAtATime(async () => {
      if ((await this.installed(spec)) !== undefined) return;
      const entries = await readTarball(tarball.body, label, this.#limits);
      await sweepAbandoned(join(this.stateDir, "packages"));
      await writeStore(entries, dir, label);
    });
    return { name: spec.name, version: spec.version, integrity: spec.integrity, dir, provenance };
  }

  async #provenance(
    spec: PackageSpec,
    url: URL | undefined,
    sha512Hex: string,
    limits: FetchLimits,
  ): Promise<VerifiedProvenance | null> {
    const label = `${spec.name}@${spec.version}`;
    let entries: ReturnType<typeof provenanceEntries> = [];
    if (url !== undefined) {
      const answer = await fetchBytes(url, this.#allowed, limits);
      if (answer.status === 200) entries = provenanceEntries(answer.body, spec);
      else if (answer.status !== 404) {
        throw new PackageStoreError("IC_PACKAGE_NETWORK", `${url.href} answered HTTP ${answer.status}`);
      }
    }
    // Provenance that is there is verified even when the change allows none: a bad one is a warning sign.
    if (entries.length > 0)
      return verifyProvenance(entries, spec, sha512Hex, this.#trustedRoot, this.registry);
    if (spec.allowUnattested === true) return null;
    throw new PackageStoreError(
      "IC_PACKAGE_UNATTESTED",
      `${label} has no npm provenance; ask for a version published with provenance, or submit the change with allowUnattested: true, which the approver sees as UNATTESTED`,
    );
  }

  #oneAtATime(step: () => Promise<void>): Promise<void> {
    const run = this.#unpacking.then(step);
    this.#unpacking = run.catch(() => undefined);
    return run;
  }

  #fetchLimits(maxBytes: number): FetchLimits {
    return { maxBytes, idleMs: this.#limits.idleMs, totalMs: this.#limits.totalMs };
  }
}
