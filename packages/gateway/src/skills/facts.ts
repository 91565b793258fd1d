/** What the gateway's edge found about one skill of a `skills` change; the verifier chain judges it. */
export type SkillFacts =
  /** The archive could not be read as a regular file under the skills root. */
  | { readonly read: "failed"; readonly reason: string }
  | {
      readonly read: "ok";
      /** `sha256:<hex>` of the archive's bytes as read. */
      readonly digest: string;
      /** The Sigstore bundle over those bytes, checked against the change's signer policy. */
      readonly signature:
        | {
            readonly verified: true;
            readonly identity: string;
            readonly issuer: string;
          }
        | { readonly verified: false; readonly code: string; readonly reason: string };
      /** SKILL.md and the archive's form. */
      readonly archive:
        | {
            readonly ok: true;
            readonly name: string;
            readonly version: string;
            readonly tools: readonly string[];
          }
        | { readonly ok: false; readonly code: string; readonly reason: string };
    };

export interface SkillsContext {
  /** The real path of the skills root; null: none is configured. */
  readonly root: string | null;
  /** By the skill's name in the change. */
  readonly facts: ReadonlyMap<string, SkillFacts>;
}
