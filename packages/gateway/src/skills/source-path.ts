/** Why `source` cannot name a skill archive under the skills root, or undefined. */
export function skillSourceProblem(source: string): string | undefined {
  if (source.startsWith("/"))
    return `skill source ${JSON.stringify(source)} must be relative to the skills root`;
  if (source.includes("\\") || source.includes("\0")) return "a skill source may not contain '\\' or NUL";
  if (source.split("/").some((segment) => segment === ".." || segment === "." || segment === "")) {
    return `skill source ${JSON.stringify(source)} must be a plain relative path, without '.', '..' or '//'`;
  }
  if (!source.endsWith(".tar.gz")) {
    return `skill source ${JSON.stringify(source)} must name the archive (<name>-<version>.tar.gz) that \`ironclaw skills pack\` wrote`;
  }
  return undefined;
}

/** Where the archive's Sigstore bundle lives: beside it, as SHA256SUMS.sigstore.json beside SHA256SUMS. */
export function bundlePathOf(source: string): string {
  return `${source}.sigstore.json`;
}
