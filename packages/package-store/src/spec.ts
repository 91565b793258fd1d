import { PackageStoreError } from "./errors.js";

/** What a `packages` change approves, one package of it. */
export interface PackageSpec {
  /** npm name, optionally scoped. */
  readonly name: string;
  /** Exact version: no range, tag or URL. */
  readonly version: string;
  /** `sha512-<base64>`, as npm's dist.integrity. */
  readonly integrity: string;
  /** `github.com/<owner>/<name>`: the repository the provenance must name. */
  readonly repository: string;
  /** Set only when the change says, in so many words, that the package has no provenance. */
  readonly allowUnattested?: true | undefined;
}

// npm's package-name rules: lower case, optional scope, no leading dot or underscore. ASCII only, so
// no invisible or look-alike character can pass.
const PACKAGE_NAME = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;
const EXACT_VERSION =
  /^(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;
/** 64 bytes of SHA-512 in standard base64: 86 characters and `==`. */
export const SHA512_INTEGRITY = /^sha512-[A-Za-z0-9+/]{86}==$/;
export const GITHUB_REPOSITORY =
  /^github\.com\/[A-Za-z0-9][A-Za-z0-9-]{0,38}\/(?!\.{1,2}$)[A-Za-z0-9._-]{1,100}$/;

/** Throws the first thing wrong with a spec; the store checks it again whoever approved it. */
export function checkSpec(spec: PackageSpec): void {
  const bad = (what: string): never => {
    throw new PackageStoreError("IC_PACKAGE_SPEC_INVALID", what);
  };
  if (typeof spec.name !== "string" || spec.name.length > 214 || !PACKAGE_NAME.test(spec.name)) {
    bad(`${JSON.stringify(spec.name)} is not an npm package name (lower case ASCII, optional @scope/)`);
  }
  if (typeof spec.version !== "string" || spec.version.length > 64 || !EXACT_VERSION.test(spec.version)) {
    bad(`${spec.name}@${JSON.stringify(spec.version)}: expected an exact version such as 1.2.3`);
  }
  if (typeof spec.integrity !== "string" || !SHA512_INTEGRITY.test(spec.integrity)) {
    bad(`${spec.name}@${spec.version}: integrity must be sha512-<base64>, as npm's dist.integrity`);
  }
  if (typeof spec.repository !== "string" || !GITHUB_REPOSITORY.test(spec.repository)) {
    bad(`${spec.name}@${spec.version}: repository must be github.com/<owner>/<name>`);
  }
}

/** The lower-case hex of the SHA-512 an integrity string carries: the store's directory name. */
export function integrityHex(integrity: string): string {
  if (!SHA512_INTEGRITY.test(integrity)) {
    throw new PackageStoreError(
      "IC_PACKAGE_SPEC_INVALID",
      `${JSON.stringify(integrity)} is not sha512-<base64>`,
    );
  }
  return Buffer.from(integrity.slice("sha512-".length), "base64").toString("hex");
}

/** The name as a registry path segment: `@scope/name` → `@scope%2fname`, as npm requests it. */
export function escapedName(name: string): string {
  return name.replace("/", "%2f");
}

/** The package URL npm's provenance names as its subject: the scope's `@` written `%40`. */
export function packagePurl(name: string, version: string): string {
  return `pkg:npm/${name.replace(/^@/, "%40")}@${version}`;
}
