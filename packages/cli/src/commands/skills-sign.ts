import { bundleToJSON, type SerializedBundle } from "@sigstore/bundle";
import {
  FulcioSigner,
  MessageSignatureBundleBuilder,
  RekorWitness,
  TSAWitness,
  type Witness,
} from "@sigstore/sign";
import { CliError } from "../errors.js";

export interface SkillSigningServices {
  /** The OIDC identity token Fulcio issues the certificate for. */
  readonly token: string;
  readonly fulcioURL: string;
  readonly rekorURL: string;
  readonly tsaURL?: string;
}

const FETCH = { retry: 2, timeout: 30_000 } as const;

/**
 * Keyless signing as cosign sign-blob does it, through sigstore-js: an ephemeral key, a Fulcio
 * certificate for the token's identity, a Rekor entry (and a timestamp when a TSA is named), as a
 * Sigstore bundle over the archive's bytes.
 */
export async function signSkillArchive(
  archive: Uint8Array,
  services: SkillSigningServices,
): Promise<SerializedBundle> {
  const signer = new FulcioSigner({
    fulcioBaseURL: services.fulcioURL,
    identityProvider: { getToken: async () => services.token },
    ...FETCH,
  });
  const witnesses: Witness[] = [new RekorWitness({ rekorBaseURL: services.rekorURL, ...FETCH })];
  if (services.tsaURL !== undefined)
    witnesses.push(new TSAWitness({ tsaBaseURL: services.tsaURL, ...FETCH }));
  try {
    const bundle = await new MessageSignatureBundleBuilder({ signer, witnesses }).create({
      data: Buffer.from(archive),
    });
    return bundleToJSON(bundle);
  } catch (cause) {
    // sigstore-js wraps the service's answer in `cause`: say all of it, and that it is the network's side.
    throw new CliError(
      "IC_NETWORK",
      `signing failed: ${causes(cause)}; check the identity token and the Fulcio, Rekor and TSA URLs`,
      { cause },
    );
  }
}

function causes(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error; e instanceof Error && parts.length < 5; e = e.cause) parts.push(e.message);
  return parts.join(": ");
}
