import { githubWorkflowIdentity, LocalSigstore } from "@ironclaw/sigstore-local";
import {
  artifactFromBytes,
  exactly,
  type LoadedTrustedRoot,
  type ParsedBundle,
  parseBundleDocument,
  parseTrustedRoot,
  type SignerPolicy,
  verifySignature,
} from "@ironclaw/verify";
import { afterAll, beforeAll } from "vitest";

export const REPOSITORY = "acme/tool";
export const COMMIT = "0123456789abcdef0123456789abcdef01234567";
export const TAG_REF = "refs/tags/v1.2.3";
export const IDENTITY = `https://github.com/${REPOSITORY}/.github/workflows/release.yml@${TAG_REF}`;
export const ISSUER = "https://token.actions.githubusercontent.com";
export const RELEASE_IDENTITY = githubWorkflowIdentity({ repository: REPOSITORY, ref: TAG_REF, sha: COMMIT });

export const ARTIFACT = Buffer.from("a0cfc712  ironclaw_1.2.3_linux_amd64.tar.gz\n");

export interface Instances {
  ours: LocalSigstore;
  /**
   * Another Sigstore, with its own CA and logs: nothing it signs may verify against ours. It has no
   * timestamp authority, so its bundles reach the certificate check instead of failing on the timestamp.
   */
  foreign: LocalSigstore;
  root: LoadedTrustedRoot;
}

/** Starts two local Sigstore instances for the file's tests and stops them after. */
export function useLocalSigstore(): Instances {
  const instances = {} as Instances;
  beforeAll(async () => {
    instances.ours = await LocalSigstore.start();
    instances.foreign = await LocalSigstore.start({ timestampAuthority: false });
    instances.root = parseTrustedRoot(
      Buffer.from(JSON.stringify(instances.ours.trustedRoot)),
      "local test instance",
    );
  });
  afterAll(async () => {
    await instances.ours?.stop();
    await instances.foreign?.stop();
  });
  return instances;
}

export function keyless(identity = IDENTITY, issuer = ISSUER): SignerPolicy {
  return {
    kind: "certificate",
    identity: { subjectAlternativeName: exactly(identity, "identity"), issuer: exactly(issuer, "issuer") },
  };
}

export function parse(document: unknown): ParsedBundle {
  return parseBundleDocument(Buffer.from(JSON.stringify(document)));
}

export function verify(document: unknown, root: LoadedTrustedRoot, artifact = ARTIFACT, signer = keyless()) {
  return verifySignature(parse(document), artifactFromBytes(artifact), { trustedRoot: root, signer });
}

/** Flips one bit in the middle of a base64 value. */
export function flipBase64(value: string): string {
  const bytes = Buffer.from(value, "base64");
  const at = Math.floor(bytes.length / 2);
  bytes[at] = (bytes[at] ?? 0) ^ 0x01;
  return bytes.toString("base64");
}
