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
      "IRONCLAW_ALLOW_DOWNGRADE",
      "IRONCLAW_BASE_URL",
      "IRONCLAW_INSTALL_DIR",
      "IRONCLAW_NO_MODIFY_PATH",
      "IRONCLAW_REPO",
      "IRONCLAW_TIMEOUT",
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
      "more than 5 redirects (the 6th to '",
      "; the installer follows at most 5",
      "the server redirected to a plain http:// URL, which the installer refuses ('",
      "an https:// release may only redirect to https://",
      "which the installer refuses: an http:// release on this machine may only redirect to http:// on 127.0.0.1, localhost or [::1]",
      "which is no absolute URL or path; the installer follows only those",
      "bytes, more than the installer takes for it (cut off while reading)",
      "the server announced more than ",
      "holds a link or special file ('",
      "expected only regular files and directories",
      ", newer than the release ",
      "Nothing was downloaded; to install ",
      "Downgrading: ",
      "IRONCLAW_ALLOW_DOWNGRADE must be 1 (or 0, or unset), found '",
      "IRONCLAW_TIMEOUT must be a number of seconds from 1 to 9999, found '",
    ]) {
      expect(ps1, verdict).toContain(verdict);
      expect(sh, verdict).toContain(verdict);
    }
  });

  it("follows redirects by hand, at most 5, each Location judged by the rules install.sh uses", () => {
    // The HTTP client's own following is off: it would fetch a Location before anything judged it.
    expect(ps1).toContain("$handler.AllowAutoRedirect = $false");
    expect(ps1).not.toMatch(/AllowAutoRedirect = \$(true|FollowRedirects)/);
    expect(ps1).toContain("if ($hops -ge 5) {");
    expect(sh).toContain('if [ "$hg_hops" -ge 5 ]; then');
    // Each tool asks for one response at a time in install.sh too.
    expect(sh).toContain("--max-redirs 0");
    expect(sh).toContain("--max-redirect=0");
    // The same allowed targets: https:// anything from https://, loopback http:// from http://.
    const body = (source: string, start: string) => source.slice(source.indexOf(start)).split("\n}")[0] ?? "";
    const refusal = body(ps1, "function Get-RedirectRefusal");
    expect(refusal).toContain("'\\Ahttps://.'");
    expect(refusal).toContain("'\\Ahttp://(127\\.0\\.0\\.1|localhost|\\[::1\\])(:[0-9]+)?(/|\\z)'");
    expect(body(sh, "next_url() {")).toContain('if loopback_http "$next_url"; then return 0; fi');
    // A Location is resolved the same ways: absolute, //host/path, /path, and nothing else.
    expect(body(ps1, "function Resolve-Location")).toContain("StartsWith('//')");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a template
    expect(body(sh, "next_url() {")).toContain("//*) next_url=${1%%://*}:$2 ;;");
  });

  it("caps each download at the same size while reading: latest 64 KiB, SHA256SUMS and bundles 16 MiB, archives 512 MiB", () => {
    for (const [sh1, ps, cap] of [
      [
        'http_get "$base_url/latest" "$tmp_dir/latest" 65536 latest',
        "$result = Invoke-Get -Url $url -OutFile $file -Cap 65536",
        65536,
      ],
      ["download SHA256SUMS ", "Get-Asset 'SHA256SUMS' ", 16777216],
      ["download SHA256SUMS.sigstore.json ", "Get-Asset 'SHA256SUMS.sigstore.json' ", 16777216],
      ['download "$attestations" ', "Get-Asset $attestations ", 16777216],
      ['download "$archive" ', "Get-Asset $archive ", 536870912],
    ] as const) {
      const shLine = sh.split("\n").find((line) => line.trimStart().startsWith(sh1));
      const psLine = ps1.split("\n").find((line) => line.trimStart().startsWith(ps));
      expect(shLine, sh1).toMatch(new RegExp(` ${cap}( |$)`));
      expect(psLine, ps).toMatch(new RegExp(` ${cap}( |$)`));
    }
    // Read while it arrives: a byte past the cap ends the download.
    expect(sh).toContain('head -c "$((hh_cap + 1))"');
    expect(ps1).toContain("if ($written -gt $Cap) {");
    expect(ps1.indexOf("if ($written -gt $Cap) {")).toBeLessThan(
      ps1.indexOf("$file.Write($buffer, 0, $count)"),
    );
  });

  it("times out on connecting and on idleness, never on a whole download", () => {
    expect(ps1).toContain("$client.Timeout = [System.Threading.Timeout]::InfiniteTimeSpan");
    expect(ps1).toContain("if (-not $read.Wait($TimeoutMs)) {");
    expect(ps1).toContain("$cancel.CancelAfter($timeoutMs)");
    expect(ps1).not.toMatch(/Timeout = \[TimeSpan\]::From/);
    expect(sh).toContain('--connect-timeout "$timeout" --speed-limit 1 --speed-time "$timeout"');
    expect(sh).toContain('--timeout="$timeout"');
    expect(sh).not.toMatch(/--max-time|-m [0-9]/);
  });

  it("tries a request again only on 408, 429 or 5xx, never after a cut or stalled body", () => {
    const hop = ps1.slice(ps1.indexOf("function Invoke-Hop"), ps1.indexOf("function Save-Body"));
    expect(hop).toContain(
      "if ($result.Status -ne 408 -and $result.Status -ne 429 -and $result.Status -lt 500) { return $result }",
    );
    expect(hop).toContain(
      "$result.Error = Save-Body $response $OutFile $Cap $timeoutMs\n                return $result",
    );
    expect(sh.slice(sh.indexOf("http_hop() {"))).toMatch(/^ {6}408 \| 429 \| 5\?\?\) ;;$/m);
    // The tools' own retries would append a second body to the first part of a cut one.
    expect(sh).not.toContain("--retry");
    expect(sh).toContain("--tries=1");
  });

  it("takes only a regular ironclaw.exe from the zip, into a file it creates, and no link at all", () => {
    const expand = ps1.slice(
      ps1.indexOf("function Expand-Executable"),
      ps1.indexOf("function Compare-Numeric"),
    );
    expect(expand).toContain("($entry.ExternalAttributes -shr 16) -band 0xF000");
    expect(expand).toContain("($entry.ExternalAttributes -band 0x400) -ne 0");
    expect(expand).toContain("[System.IO.FileMode]::CreateNew");
    expect(expand).not.toContain("ExtractToFile");
    // The link check runs on every entry, before ironclaw.exe is picked out.
    expect(expand.indexOf("holds a link or special file")).toBeLessThan(
      expand.indexOf("$matching += $entry"),
    );
  });

  it("stages the new ironclaw.exe in a file it creates under a random name, as install.sh does", () => {
    const stage = ps1.slice(ps1.indexOf("function Install-Executable"));
    expect(stage).not.toContain("$PID");
    expect(stage).toContain("[System.IO.Path]::GetRandomFileName()");
    expect(stage.indexOf("[System.IO.FileMode]::CreateNew")).toBeLessThan(stage.indexOf("Copy-Item"));
  });

  it("prints its errors with control characters replaced, as install.sh's printable does", () => {
    const report = ps1.slice(ps1.indexOf("function Install-IronClaw"));
    expect(report).toContain("-replace '[\\p{Cc}\\u200E\\u200F\\u202A-\\u202E\\u2066-\\u2069]', '?'");
    expect(report).toContain('[Console]::Error.WriteLine("ironclaw install: error: $message")');
    expect(report).not.toContain("error: $($_.Exception.Message)");
  });

  it("checks for a newer install before downloading, as install.sh does", () => {
    const install = ps1.slice(ps1.indexOf("function Invoke-Install {"));
    const order = ["Resolve-Tag", "Test-Downgrade $settings $tag $version", "Get-Asset 'SHA256SUMS'"].map(
      (step) => install.indexOf(step),
    );
    expect(order.every((index) => index >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const main = sh.slice(sh.indexOf("main() {"));
    const shOrder = ["  resolve_tag\n", "  check_downgrade\n", "  download SHA256SUMS "].map((step) =>
      main.indexOf(step),
    );
    expect(shOrder.every((index) => index >= 0)).toBe(true);
    expect([...shOrder].sort((a, b) => a - b)).toEqual(shOrder);
  });
});
