import { readFileSync } from "node:fs";
import { OFFICIAL_REPOSITORY } from "@ironclaw/verify/release";
import { describe, expect, it } from "vitest";
import { INSTALL_PS1, INSTALL_SH } from "./harness.js";

// No PowerShell on this machine, so install.ps1 never runs here: these tests read it. They check its
// shape (all code in functions, balanced), its settings against install.sh's, and the order of its
// steps; whether PowerShell runs it as written is proven only by the release workflow's Windows job.
const ps1 = readFileSync(INSTALL_PS1, "utf8");
const sh = readFileSync(INSTALL_SH, "utf8");

/**
 * The code of a PowerShell script with comments removed and every string emptied (`''`, `""`), except
 * that a subexpression `$(…)` inside a double-quoted string is code and is kept.
 */
function codeOf(source: string): string {
  let i = 0;
  // Reads code up to the `)` that closes a subexpression (or to the end), and returns it.
  const code = (inSubexpression: boolean): string => {
    let out = "";
    let depth = 0;
    while (i < source.length) {
      const c = source[i] as string;
      if (c === "#") {
        while (i < source.length && source[i] !== "\n") i++;
      } else if (c === "'") {
        i++;
        while (i < source.length && !(source[i] === "'" && source[i + 1] !== "'"))
          i += source[i] === "'" ? 2 : 1;
        i++;
        out += "''";
      } else if (c === '"') {
        i++;
        out += '"';
        while (i < source.length && !(source[i] === '"' && source[i + 1] !== '"')) {
          if (source[i] === "`" || source[i] === '"') i += 2;
          else if (source[i] === "$" && source[i + 1] === "(") {
            i += 2;
            out += `$(${code(true)})`;
            i++;
          } else i++;
        }
        i++;
        out += '"';
      } else if (inSubexpression && c === ")" && depth === 0) {
        return out;
      } else {
        if (c === "(") depth++;
        if (c === ")") depth--;
        out += c;
        i++;
      }
    }
    return out;
  };
  return code(false);
}

function balanced(code: string): boolean {
  const stack: string[] = [];
  const pairs: Record<string, string> = { ")": "(", "}": "{", "]": "[" };
  for (const c of code) {
    if (c === "(" || c === "{" || c === "[") stack.push(c);
    else if (c in pairs && stack.pop() !== pairs[c]) return false;
  }
  return stack.length === 0;
}

/** The top-level statements of the code, with what is inside brackets left out: `function X {}`. */
function topLevel(code: string): string[] {
  const statements: string[] = [];
  let depth = 0;
  let current = "";
  for (const c of code) {
    if (c === "{" || c === "(" || c === "[") {
      if (depth === 0) current += c;
      depth++;
    } else if (c === "}" || c === ")" || c === "]") {
      depth--;
      if (depth === 0) current += c;
    } else if (depth === 0 && c === "\n") {
      if (current.trim() !== "") statements.push(current.trim());
      current = "";
    } else if (depth === 0) current += c;
  }
  if (current.trim() !== "") statements.push(current.trim());
  return statements;
}

/** The environment variables a script reads (`${IRONCLAW_…` in sh, `$env:IRONCLAW_…` in PowerShell). */
function settingsRead(source: string, pattern: RegExp): string[] {
  return [...new Set([...source.matchAll(pattern)].map((match) => match[1] as string))].sort();
}

/** The settings a script's header documents. */
function settingsDocumented(source: string): string[] {
  return settingsRead(source, /^# {3}(IRONCLAW_[A-Z_]+) /gm);
}

describe("install.ps1, read (PowerShell cannot run here)", () => {
  it("has balanced braces, parentheses and brackets outside strings and comments", () => {
    expect(balanced(codeOf(ps1))).toBe(true);
    // The scanner itself: an unbalanced brace in code is found, one inside a string or comment is not.
    expect(balanced(codeOf("function A { '{' \"}\" # {\n}\n"))).toBe(true);
    expect(balanced(codeOf('function A { "$(Get-X { 1 })"\n'))).toBe(false);
  });

  it("keeps all code in functions, and runs only its last line: a cut download runs nothing", () => {
    const statements = topLevel(codeOf(ps1));
    expect(statements.pop()).toBe("Install-IronClaw -InvokedAsFile ()");
    expect(ps1.trimEnd().split("\n").at(-1)).toBe("Install-IronClaw -InvokedAsFile ([bool] $PSCommandPath)");
    for (const statement of statements) expect(statement).toMatch(/^function [A-Za-z0-9-]+ \{\}$/);
    // The check itself: code at the top level is seen, code in a function or a string is not.
    expect(topLevel(codeOf("function A {\n  Remove-Item x\n}\n'{'\nRemove-Item y # }\nA\n"))).toEqual([
      "function A {}",
      "''",
      "Remove-Item y",
      "A",
    ]);
  });

  it("stops on every error, and says what was expected and what was found", () => {
    expect(ps1).toContain("$ErrorActionPreference = 'Stop'");
    expect(ps1).toContain("Set-StrictMode -Version 3.0");
    expect(ps1).toContain("Get-FileHash -LiteralPath $Path -Algorithm SHA256");
  });

  it("reads the same settings as install.sh, and defaults to the official repository", () => {
    const read = settingsRead(ps1, /\$env:(IRONCLAW_[A-Z_]+)/g);
    expect(read).toEqual(settingsRead(sh, /\$\{(IRONCLAW_[A-Z_]+)/g));
    expect(settingsDocumented(ps1)).toEqual(read);
    expect(settingsDocumented(sh)).toEqual(read);
    expect(read).toEqual([
      "IRONCLAW_BASE_URL",
      "IRONCLAW_INSTALL_DIR",
      "IRONCLAW_NO_MODIFY_PATH",
      "IRONCLAW_REPO",
      "IRONCLAW_TRUSTED_ROOT",
      "IRONCLAW_VERSION",
    ]);
    expect(ps1).toContain(`function Get-DefaultRepository { '${OFFICIAL_REPOSITORY}' }`);
  });

  it("checks the checksum before it extracts or runs anything, and the signature before it installs", () => {
    const body = ps1.slice(ps1.indexOf("function Invoke-Install {"));
    const order = [
      "Get-Asset 'SHA256SUMS'",
      "Get-ExpectedChecksum",
      "Get-Sha256",
      "if ($actual -cne $expected)",
      'Write-Step "Checksum OK',
      "Test-Signature",
      "Expand-Executable",
      "Test-Binary",
      "Install-Executable",
    ].map((step) => body.indexOf(step));
    expect(order.every((index) => index >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it("prints the same verdicts as install.sh", () => {
    for (const verdict of [
      "Checksum OK: ",
      "Signature OK: SHA256SUMS is signed by ",
      "Signature NOT checked: neither an earlier ironclaw nor cosign is installed, so only the checksum was checked.",
      "checksum mismatch for ",
      "has no line for ",
      "(a name must match exactly)",
      "which points outside the directory it is extracted into",
      "IRONCLAW_BASE_URL must be https:// (plain http:// only for 127.0.0.1, localhost or [::1])",
      "IRONCLAW_TRUSTED_ROOT is set, but there is no verifier to use it",
    ]) {
      expect(ps1, verdict).toContain(verdict);
      expect(sh, verdict).toContain(verdict);
    }
  });
});
