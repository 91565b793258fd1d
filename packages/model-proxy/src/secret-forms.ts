/** Forms shorter than this are not looked for: they would match ordinary text. */
const MIN_FORM = 12;

/**
 * The texts a provider could echo a key as without meaning to: the key itself, its hex (either case),
 * and its base64 (standard and URL-safe) as it appears wherever the key starts in the encoded bytes
 * (each of the 3 alignments gives a fixed run of characters; the partly mixed groups at either end
 * are left out). Deliberate re-encodings (reversed, split, another cipher) are not caught: a provider
 * that means to leak its own key can; this stops an accidental echo reaching the agent.
 */
export function secretForms(key: string): string[] {
  if (key === "") return [];
  const bytes = Buffer.from(key, "utf8");
  const forms = new Set<string>([key, bytes.toString("hex"), bytes.toString("hex").toUpperCase()]);
  for (let shift = 0; shift < 3; shift += 1) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes])
      .toString("base64")
      .replace(/=+$/, "");
    // Groups of 4 characters hold 3 bytes: drop the first group if it holds a prefix byte, and the
    // last if it holds fewer than 3 of the key's bytes (the bytes after the key are unknown).
    const start = shift === 0 ? 0 : 4;
    const end =
      (shift + bytes.length) % 3 === 0 ? encoded.length : encoded.length - (encoded.length % 4 || 4);
    const run = encoded.slice(start, end);
    if (run.length >= MIN_FORM) {
      forms.add(run);
      forms.add(run.replace(/\+/g, "-").replace(/\//g, "_"));
    }
  }
  return [...forms];
}
