export const REDACTED = "[redacted]";

/** Removes every occurrence of each secret, then cuts to `max` characters: redaction before truncation. */
export function scrub(text: string, secrets: readonly string[], max = 300): string {
  let clean = text;
  for (const secret of secrets) {
    if (secret !== "") clean = clean.split(secret).join(REDACTED);
  }
  // Control characters from a provider would garble a terminal or a log line.
  clean = clean.replace(/[\u0000-\u001f\u007f]/g, " ");
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/** Whether a text holds any of the secrets. */
export function containsSecret(text: string, secrets: readonly string[]): boolean {
  return secrets.some((secret) => secret !== "" && text.includes(secret));
}
