import { VerifyError } from "../errors.js";

/** An exact string, or a regular expression that we anchor whatever the user typed. */
export type StringMatcher =
  | { readonly kind: "exact"; readonly value: string }
  | { readonly kind: "regexp"; readonly source: string; readonly pattern: RegExp };

export interface CertificateIdentityPolicy {
  readonly subjectAlternativeName: StringMatcher;
  readonly issuer: StringMatcher;
}

export function exactly(value: string, what: string): StringMatcher {
  if (value.length === 0) throw new VerifyError("IC_POLICY_INVALID", `the expected ${what} is empty`);
  return { kind: "exact", value };
}

/**
 * `^(?:…)$` around the user's expression: `https://github.com/acme/.*` must never match
 * `https://evil.example/?https://github.com/acme/x`, which an unanchored search would.
 */
export function matchingRegexp(source: string, what: string): StringMatcher {
  if (source.length === 0) throw new VerifyError("IC_POLICY_INVALID", `the ${what} expression is empty`);
  try {
    return { kind: "regexp", source, pattern: new RegExp(`^(?:${source})$`) };
  } catch (cause) {
    throw new VerifyError(
      "IC_POLICY_INVALID",
      `the ${what} expression ${JSON.stringify(source)} is invalid: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
}

export function matches(matcher: StringMatcher, value: string | undefined): boolean {
  if (value === undefined) return false;
  return matcher.kind === "exact" ? matcher.value === value : matcher.pattern.test(value);
}

export function describeMatcher(matcher: StringMatcher): string {
  return matcher.kind === "exact" ? JSON.stringify(matcher.value) : `/^(?:${matcher.source})$/`;
}

/** Throws the mismatch that says what was expected and what the certificate holds. */
export function checkIdentity(
  policy: CertificateIdentityPolicy,
  found: { readonly subjectAlternativeName: string | undefined; readonly issuer: string | undefined },
): void {
  if (!matches(policy.subjectAlternativeName, found.subjectAlternativeName)) {
    throw new VerifyError(
      "IC_POLICY_IDENTITY_MISMATCH",
      `the certificate identity is ${JSON.stringify(found.subjectAlternativeName ?? null)}; expected ${describeMatcher(policy.subjectAlternativeName)}`,
    );
  }
  if (!matches(policy.issuer, found.issuer)) {
    throw new VerifyError(
      "IC_POLICY_ISSUER_MISMATCH",
      `the certificate OIDC issuer is ${JSON.stringify(found.issuer ?? null)}; expected ${describeMatcher(policy.issuer)}`,
    );
  }
}
