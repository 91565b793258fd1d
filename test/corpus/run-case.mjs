import { createHash, createPublicKey } from "node:crypto";
import { readFileSync } from "node:fs";
import {
  artifactFromBytes,
  artifactFromDigest,
  buildAttestationPolicy,
  exactly,
  loadDigestOnlyVerifier,
  parseAttestationFile,
  parseBundleDocument,
  parseTrustedRoot,
  parseTrustedRoots,
  publicGoodTrustedRoot,
  verifyAttestations,
  verifySignature,
} from "@ironclaw/verify";

// Shared by test/corpus/corpus.test.ts (vitest, sources) and scripts/differential.mjs (the build).
// Plain JavaScript so that Node 20 runs it without a TypeScript step; types in run-case.d.mts.

export const REAL_WORLD = new URL("../fixtures/real-world/", import.meta.url);

// Cases that give only the artifact's digest verify ECDSA through @noble/curves, loaded on demand.
await loadDigestOnlyVerifier();

export const read = (path) => readFileSync(new URL(path, REAL_WORLD));

const isJsonLines = (root) => typeof root === "string" && root.endsWith(".jsonl");

/** The case's trusted root as a parsed document (for sigstore-js too); JSON Lines give an array. */
export function trustedRootDocument(root) {
  if (root === "embedded") return undefined;
  if (isJsonLines(root))
    return read(root)
      .toString("utf8")
      .split("\n")
      .filter((line) => line.trim().length > 0)
      .map((line) => JSON.parse(line));
  if (typeof root === "string") return JSON.parse(read(root).toString("utf8"));
  // sigstore-python's TestVerifierWithTimestamp: its staging root with the test TSA as the authority.
  const document = JSON.parse(read(root.base).toString("utf8"));
  document.timestampAuthorities =
    root.timestampAuthorities === "none"
      ? []
      : [JSON.parse(read(root.timestampAuthorities).toString("utf8"))];
  return document;
}

function trustedRoot(root) {
  // JSON Lines as `gh attestation trusted-root` prints them, read as --trusted-root reads them.
  if (isJsonLines(root)) return parseTrustedRoots(read(root), root);
  const document = trustedRootDocument(root);
  if (document === undefined) return publicGoodTrustedRoot();
  const name = typeof root === "string" ? root : `${root.base} + ${root.timestampAuthorities}`;
  return parseTrustedRoot(Buffer.from(JSON.stringify(document)), name);
}

/** The artifact's bytes when the case has them; a digest string otherwise; undefined for none. */
export function artifactInput(test) {
  const given = test.artifact;
  if (given === null) return undefined;
  if (given.file !== undefined) return { bytes: read(given.file) };
  if (given.text !== undefined) return { bytes: Buffer.from(given.text, "utf8") };
  if (given.digest !== undefined) return { digest: given.digest };
  // The message digest the bundle itself claims (the artifact is not in the owner's repository).
  const bundle = JSON.parse(read(test.bundle).toString("utf8"));
  const digest = Buffer.from(bundle.messageSignature?.messageDigest?.digest ?? "", "base64").toString("hex");
  return { digest: `sha256:${digest}` };
}

function artifactOf(test) {
  const input = artifactInput(test);
  if (input === undefined) return undefined;
  return input.bytes !== undefined ? artifactFromBytes(input.bytes) : artifactFromDigest(input.digest);
}

function signerOf(policy) {
  if (typeof policy.key === "string") {
    const window = policy.keyValidFor;
    return {
      kind: "key",
      publicKey: createPublicKey(read(policy.key)),
      ...(window === undefined
        ? {}
        : {
            validFor: {
              ...(window.start === undefined ? {} : { start: new Date(window.start) }),
              ...(window.end === undefined ? {} : { end: new Date(window.end) }),
            },
          }),
    };
  }
  if (typeof policy.identity === "string" && typeof policy.issuer === "string") {
    return {
      kind: "certificate",
      identity: {
        subjectAlternativeName: exactly(policy.identity, "identity"),
        issuer: exactly(policy.issuer, "issuer"),
      },
    };
  }
  return { kind: "any-trusted-certificate" };
}

function digestsOf(test) {
  const input = artifactInput(test);
  if (input?.bytes !== undefined) {
    return {
      sha256: createHash("sha256").update(input.bytes).digest("hex"),
      sha512: createHash("sha512").update(input.bytes).digest("hex"),
    };
  }
  const [algorithm, hex] = (input?.digest ?? "").split(":");
  return algorithm === "sha512" ? { sha512: hex ?? "" } : { sha256: hex ?? "" };
}

/** Runs one case through our library, as `verify-bundle` / `attestation verify` would. */
export function runCase(test) {
  try {
    const root = trustedRoot(test.root);
    if (test.mode === "attestation") {
      const { all, ...flags } = test.policy;
      const result = verifyAttestations(parseAttestationFile(read(test.bundle), test.bundle), {
        trustedRoot: root,
        policy: buildAttestationPolicy(flags),
        artifact: { digests: digestsOf(test) },
        requireAll: all === true,
      });
      const failure = result.statements.find((s) => s.failure !== undefined)?.failure;
      return {
        verdict: result.ok ? "verified" : "refused",
        detail: result.ok ? result.summary : `${failure?.code ?? ""} ${result.summary}`,
      };
    }
    const result = verifySignature(parseBundleDocument(read(test.bundle), test.bundle), artifactOf(test), {
      trustedRoot: root,
      signer: signerOf(test.policy),
    });
    const signer = result.signer.kind === "key" ? "the key" : result.signer.subjectAlternativeName;
    return { verdict: "verified", detail: `signed by ${signer}` };
  } catch (error) {
    return {
      verdict: "refused",
      detail: `${error?.code ?? "exception"}: ${error?.message ?? String(error)}`,
    };
  }
}
