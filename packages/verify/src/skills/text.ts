/**
 * What a terminal would not show as itself: controls but tab and newline, format characters (zero-width,
 * bidi, tags), private-use, unassigned, lone surrogates, line and paragraph separators. The same rule as
 * the gateway's text fields, so what the approver reads is all there is.
 */
const HIDDEN = /(?![\t\n])[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Cs}\p{Zl}\p{Zp}]/u;

export function hiddenCharacterIn(text: string): string | undefined {
  const match = HIDDEN.exec(text);
  if (match === null) return undefined;
  return `U+${(match[0].codePointAt(0) as number).toString(16).toUpperCase().padStart(4, "0")}`;
}
