import type { KeyObject } from "node:crypto";
import { TrustedRoot } from "@sigstore/protobuf-specs";
import seeds from "@sigstore/tuf/seeds.json" with { type: "json" };
import { type TrustMaterial, toTrustMaterial } from "@sigstore/verify";
import { VerifyError } from "../errors.js";
import { findShapeViolation } from "./json-shape.js";
import { TRUSTED_ROOT_SHAPE } from "./shapes.js";

export const PUBLIC_GOOD_TUF_URL = "https://tuf-repo-cdn.sigstore.dev";
export const EMBEDDED_ROOT_NAME = "Sigstore public-good (embedded)";

/** A trusted root that passed our checks, with where it came from for reports. */
export interface LoadedTrustedRoot {
  readonly origin: string;
  readonly document: Record<string, unknown>;
  readonly root: TrustedRoot;
  /** Set for the root embedded in this build, so reports can say so rather than name a path. */
  readonly embedded?: boolean;
  /**
   * Every root of a JSON Lines file (`gh attestation trusted-root` prints one per instance); each
   * bundle is verified under the one whose certificate authority issued its certificate.
   */
  readonly alternatives?: readonly LoadedTrustedRoot[];
}

/** Reads a trusted_root.json, or JSON Lines of them as `gh attestation trusted-root` prints them. */
export function parseTrustedRoots(bytes: Uint8Array, origin: string): LoadedTrustedRoot {
  const text = Buffer.from(bytes).toString("utf8");
  const lines = text.split("\n").filter((line) => line.trim().length > 0);
  if (lines.length <= 1 || isOneJsonDocument(text)) return parseTrustedRoot(bytes, origin);
  const roots = lines.map((line, index) =>
    parseTrustedRoot(Buffer.from(line, "utf8"), `${origin} (line ${index + 1} of ${lines.length})`),
  );
  const [first] = roots;
  if (first === undefined) return parseTrustedRoot(bytes, origin);
  return { ...first, origin: `${origin} (JSON Lines of ${roots.length} roots)`, alternatives: roots };
}

function isOneJsonDocument(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * A private Sigstore instance (GitHub's, for private repositories) runs no transparency log and no
 * CT log: its bundles are timed by its timestamp authority instead, and its certificates carry no
 * SCTs. Each requirement is dropped only for the log the root itself does not have.
 */
export function logRequirements(root: LoadedTrustedRoot): {
  readonly transparencyLog: boolean;
  readonly certificateTransparency: boolean;
} {
  return {
    transparencyLog: root.root.tlogs.length > 0,
    certificateTransparency: root.root.ctlogs.length > 0,
  };
}

/** Which root a verification used, as reports print it. */
export interface TrustedRootDescription {
  /** The file's path, or the embedded root's name. */
  readonly name: string;
  readonly embedded: boolean;
  /** The newest `validFor.start` of its logs and authorities: how recent the root's keys are. */
  readonly newestKeyFrom?: string;
}

export function describeTrustedRoot(root: LoadedTrustedRoot): TrustedRootDescription {
  const starts = allValidity(root.document)
    .map(([, range]) => range?.start)
    .filter((start): start is string => start !== undefined && !Number.isNaN(Date.parse(start)))
    .sort((a, b) => Date.parse(a) - Date.parse(b));
  const newest = starts.at(-1);
  return {
    name: root.origin,
    embedded: root.embedded === true,
    ...(newest === undefined
      ? {}
      : { newestKeyFrom: new Date(Date.parse(newest)).toISOString().slice(0, 10) }),
  };
}

/** The root's path or the embedded root's name, with the date of its newest key, for one-line reports. */
export function trustedRootLine(root: LoadedTrustedRoot): string {
  const described = describeTrustedRoot(root);
  return described.newestKeyFrom === undefined
    ? described.name
    : `${described.name} (newest key from ${described.newestKeyFrom})`;
}

interface TimeRangeJson {
  readonly start?: string;
  readonly end?: string;
}

/**
 * The Sigstore public-good production root, as embedded in the pinned @sigstore/tuf release: no
 * network, no cache, the same bytes on every machine that installed the same lockfile.
 */
export function publicGoodTrustedRoot(): LoadedTrustedRoot {
  const targets = (seeds as Record<string, { targets?: Record<string, string> }>)[PUBLIC_GOOD_TUF_URL]
    ?.targets;
  const encoded = targets?.["trusted_root.json"];
  if (encoded === undefined) {
    throw new VerifyError(
      "IC_TRUSTED_ROOT_INVALID",
      "the embedded Sigstore public-good trusted root is missing from @sigstore/tuf; reinstall with npm ci",
    );
  }
  return parseTrustedRoot(Buffer.from(encoded, "base64"), EMBEDDED_ROOT_NAME, { embedded: true });
}

/** Parsing a root's certificates costs more than verifying a bundle; do it once per root. */
const keylessMaterial = new WeakMap<LoadedTrustedRoot, TrustMaterial>();

/**
 * Parses and checks a trusted_root.json. Refused: malformed JSON, unknown fields, and any log or
 * authority without `validFor.start` — an open start would trust a key for all of the past.
 */
export function parseTrustedRoot(
  bytes: Uint8Array,
  origin: string,
  options: { readonly embedded?: boolean } = {},
): LoadedTrustedRoot {
  let document: unknown;
  try {
    document = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (cause) {
    throw new VerifyError("IC_TRUSTED_ROOT_INVALID", `${origin} is not JSON: ${(cause as Error).message}`, {
      cause,
    });
  }
  const violation = findShapeViolation(document, TRUSTED_ROOT_SHAPE);
  if (violation !== undefined) {
    throw new VerifyError("IC_TRUSTED_ROOT_INVALID", `${origin} is not a valid trusted root: ${violation}`);
  }
  const record = document as Record<string, unknown>;
  checkValidity(record);
  let root: TrustedRoot;
  let material: TrustMaterial;
  try {
    root = TrustedRoot.fromJSON(record);
    material = toTrustMaterial(root, {});
  } catch (cause) {
    throw new VerifyError(
      "IC_TRUSTED_ROOT_INVALID",
      `${origin} cannot be used: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
  const loaded = { origin, document: record, root, ...(options.embedded === true ? { embedded: true } : {}) };
  keylessMaterial.set(loaded, material);
  return loaded;
}

function allValidity(document: Record<string, unknown>): Array<readonly [string, TimeRangeJson | undefined]> {
  const logs = (name: string) =>
    ((document[name] as Array<{ publicKey: { validFor?: TimeRangeJson } }> | undefined) ?? []).map(
      (log, index) => [`${name}[${index}].publicKey.validFor`, log.publicKey.validFor] as const,
    );
  const authorities = (name: string) =>
    ((document[name] as Array<{ validFor?: TimeRangeJson }> | undefined) ?? []).map(
      (authority, index) => [`${name}[${index}].validFor`, authority.validFor] as const,
    );
  return [
    ...logs("tlogs"),
    ...logs("ctlogs"),
    ...authorities("certificateAuthorities"),
    ...authorities("timestampAuthorities"),
  ];
}

function checkValidity(document: Record<string, unknown>): void {
  for (const [path, range] of allValidity(document)) {
    if (range?.start === undefined) {
      throw new VerifyError(
        "IC_TRUSTED_ROOT_MISSING_VALIDITY",
        `${path}.start is missing; every log and authority must say from when it is trusted`,
      );
    }
    if (range.end !== undefined && Date.parse(range.end) < Date.parse(range.start)) {
      throw new VerifyError(
        "IC_TRUSTED_ROOT_INVALID",
        `${path} ends (${range.end}) before it starts (${range.start})`,
      );
    }
  }
}

/** Trust material for sigstore-js; a fixed public key replaces the root's key lookup in key mode. */
export function trustMaterialFor(
  root: LoadedTrustedRoot,
  publicKey?: KeyObject,
  window?: { readonly start?: Date; readonly end?: Date },
): TrustMaterial {
  if (publicKey !== undefined) {
    const validFor = (date: Date) =>
      (window?.start === undefined || date >= window.start) &&
      (window?.end === undefined || date <= window.end);
    return toTrustMaterial(root.root, () => ({ publicKey, validFor }));
  }
  let material = keylessMaterial.get(root);
  if (material === undefined) {
    material = toTrustMaterial(root.root, {});
    keylessMaterial.set(root, material);
  }
  return material;
}
