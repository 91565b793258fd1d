/**
 * Every refusal of the package store carries a stable code; messages say what was expected, what was
 * found and what to do, and may be reworded, codes may not.
 */
export const PACKAGE_ERROR_CODES = [
  /** The spec itself: name, version, integrity or repository malformed. */
  "IC_PACKAGE_SPEC_INVALID",
  /** The registry URL or a URL it names is not one we fetch from. */
  "IC_PACKAGE_REGISTRY_URL",
  /** A redirect to another origin, to plain HTTP, or in a loop. */
  "IC_PACKAGE_REDIRECT_REFUSED",
  /** A connection failed, or an answer other than 200. */
  "IC_PACKAGE_NETWORK",
  /** Nothing arrived for too long, or the whole answer took too long. */
  "IC_PACKAGE_TIMEOUT",
  /** An answer, a tarball or its contents over the configured bounds. */
  "IC_PACKAGE_TOO_LARGE",
  /** The registry does not have this name and version. */
  "IC_PACKAGE_NOT_FOUND",
  /** The registry's document is not what npm serves (not JSON, wrong name or version, no dist). */
  "IC_PACKAGE_METADATA",
  /** dist.integrity is not the approved integrity, or the tarball's bytes do not hash to it. */
  "IC_PACKAGE_INTEGRITY",
  /** No provenance, and the change does not say allowUnattested. */
  "IC_PACKAGE_UNATTESTED",
  /** Provenance exists but does not verify, or names another package, version or repository. */
  "IC_PACKAGE_PROVENANCE",
  /** The tarball holds something that may not be unpacked (a path out, a link, a device, a FIFO). */
  "IC_PACKAGE_TARBALL",
  /** Writing the store failed (disk full, permissions). */
  "IC_PACKAGE_STORE_IO",
] as const;

export type PackageErrorCode = (typeof PACKAGE_ERROR_CODES)[number];

export class PackageStoreError extends Error {
  override readonly name = "PackageStoreError";
  readonly code: PackageErrorCode;

  constructor(code: PackageErrorCode, message: string, options?: { readonly cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

export function isPackageStoreError(error: unknown): error is PackageStoreError {
  return error instanceof PackageStoreError;
}
