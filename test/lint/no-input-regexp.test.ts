import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// Input is never compiled as a regular expression (issue 15, point 7): every place our sources
// build a RegExp from anything but a literal is listed here with why its source is not input.
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const ALLOWED: Readonly<Record<string, string>> = {
  "packages/gateway/src/api/routes.ts":
    "route patterns built from constants (the ID pattern and fixed actions)",
  "packages/gateway/src/changes/hosts.ts": "one \\p{Script=…} class per name in a constant list of scripts",
  "packages/verify/src/sigstore/identity-policy.ts":
    "the user's --certificate-identity-regexp / --cert-identity-regex flag, anchored; never bundle text",
};
// A RegExp built at run time, or a string method that compiles a non-literal argument as one.
const DYNAMIC = /\bRegExp\s*\(|\.(?:match|matchAll|search)\s*\(\s*(?!\/)/;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

describe("no input is compiled as a regular expression", () => {
  const packages = join(ROOT, "packages");
  const files = readdirSync(packages).flatMap((name) => sources(join(packages, name, "src")));

  it("finds RegExp construction only where the allowlist says why", () => {
    const found = files
      .filter((file) =>
        readFileSync(file, "utf8")
          .split("\n")
          .some((line) => DYNAMIC.test(line)),
      )
      .map((file) => relative(ROOT, file))
      .sort();
    expect(found).toEqual(Object.keys(ALLOWED).sort());
  });

  it("would catch one (the pattern itself is tested)", () => {
    for (const line of [
      "new RegExp(name)",
      "RegExp(x)",
      "url.match(signature.name)",
      "s.search(term)",
      "s.matchAll(x)",
    ]) {
      expect(DYNAMIC.test(line)).toBe(true);
    }
    for (const line of ["s.match(/^a$/)", "s.search(/[/?#]/)", "pattern.test(value)"]) {
      expect(DYNAMIC.test(line)).toBe(false);
    }
  });
});
