import { isIP } from "node:net";
import { domainToUnicode } from "node:url";

/**
 * Scripts a host-name label may not mix (UTS #39 "highly restrictive"): Latin with Han and the Japanese
 * or Korean scripts is fine, Latin with Cyrillic (gіthub, with a Cyrillic і) is not. Letters of scripts
 * not listed count as a script of their own.
 */
const SCRIPTS = [
  "Latin",
  "Cyrillic",
  "Greek",
  "Armenian",
  "Georgian",
  "Hebrew",
  "Arabic",
  "Devanagari",
  "Bengali",
  "Thai",
  "Han",
  "Hiragana",
  "Katakana",
  "Hangul",
  "Bopomofo",
].map((name) => [name, new RegExp(`^\\p{Script=${name}}$`, "u")] as const);
const ALLOWED_MIXES = [
  ["Latin", "Han", "Hiragana", "Katakana"],
  ["Latin", "Han", "Hangul"],
  ["Latin", "Han", "Bopomofo"],
];

function scriptsOf(label: string): Set<string> {
  const scripts = new Set<string>();
  for (const char of label) {
    if (!/\p{L}/u.test(char)) continue;
    scripts.add(SCRIPTS.find(([, pattern]) => pattern.test(char))?.[0] ?? `other:${char}`);
  }
  return scripts;
}

/** Why an A-label (xn--…) is refused: it must decode, to visible, single-script text. */
function aLabelProblem(label: string): string | undefined {
  const unicode = domainToUnicode(label);
  if (unicode === "" || unicode === label) return `${JSON.stringify(label)} is not a valid A-label`;
  const scripts = [...scriptsOf(unicode)];
  if (scripts.length > 1 && !ALLOWED_MIXES.some((mix) => scripts.every((s) => mix.includes(s)))) {
    return `${label} is ${JSON.stringify(unicode)}, which mixes the scripts ${scripts.join(", ")}: a look-alike of another name`;
  }
  return undefined;
}

/**
 * Why a host is refused as an egress target, or undefined when it is well formed. Exact names only:
 * no wildcards, no trailing dot, lower case, and an IP literal only when the change says it is one.
 */
export function egressHostProblem(host: string, ipLiteral: boolean): string | undefined {
  const ipVersion = isIP(host);
  if (ipVersion !== 0) {
    if (!ipLiteral)
      return `${host} is an IP literal; name it with "ipLiteral": true to approve that exact address`;
    if (ipVersion === 6 && host !== host.toLowerCase())
      return "an IPv6 literal must be written in lower case";
    return undefined;
  }
  if (ipLiteral) return `"ipLiteral" is set but ${JSON.stringify(host)} is not an IP address`;
  if (host.includes("*")) return "wildcards are not allowed: name each host exactly";
  if (host !== host.toLowerCase()) return "a host name must be written in lower case";
  if (host.endsWith(".")) return "a host name must not end with a dot";
  if (host.length > 253) return "a host name is at most 253 characters";
  const labels = host.split(".");
  if (labels.length < 2) return `${JSON.stringify(host)} is not a fully qualified host name`;
  for (const label of labels) {
    if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(label)) {
      return `${JSON.stringify(label)} is not a valid host-name label (a-z, 0-9, '-', 1 to 63 characters)`;
    }
  }
  for (const label of labels) {
    if (!label.startsWith("xn--")) continue;
    const problem = aLabelProblem(label);
    if (problem !== undefined) return problem;
  }
  // A numeric last label makes URL parsers read the name as an IPv4 address (0x7f.1, 2130706433, 1.2.3).
  if (/^(?:0x[0-9a-f]*|\d+)$/.test(labels[labels.length - 1] ?? "")) {
    return `${JSON.stringify(host)} is an IPv4 address in another spelling`;
  }
  return undefined;
}
