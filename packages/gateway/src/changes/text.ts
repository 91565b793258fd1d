/**
 * Text a human approves must be text a human can see. Refused anywhere in a change or decision:
 * control characters but tab and newline, format characters (Cf: zero-width, bidi controls, the
 * U+E00xx tags that hid "ALLOW ALL EGRESS" under "Be helpful."), private-use and unassigned code points,
 * lone surrogates, and line or paragraph separators. "Unassigned" is as of the Unicode version of the
 * running Node.js.
 */
const HIDDEN = /(?![\t\n])[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Cs}\p{Zl}\p{Zp}]/u;

/** The first code point a terminal would not show, as U+XXXX, or undefined. */
export function hiddenCharacter(text: string): string | undefined {
  const match = HIDDEN.exec(text);
  if (match === null) return undefined;
  const code = match[0].codePointAt(0) as number;
  return `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
}

export const VISIBLE_TEXT_MESSAGE =
  "only visible text: no control, format (zero-width, bidi, tag), private-use or unassigned characters";
