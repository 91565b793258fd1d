import { appendFileSync, existsSync } from "node:fs";
import { delimiter, join } from "node:path";

/** A program some tests need that a machine with only Node.js and npm may lack. */
export interface SystemTool {
  readonly debianPackage: string;
  readonly enables: string;
}

/** Each optional tool, its Debian package, and what it lets the tests prove. README lists the same. */
export const SYSTEM_TOOLS: ReadonlyMap<string, SystemTool> = new Map([
  [
    "busybox",
    { debianPackage: "busybox", enables: "install.sh under BusyBox sh, tar and wget (Alpine's tools)" },
  ],
  ["dash", { debianPackage: "dash", enables: "install.sh under dash (Debian's /bin/sh)" }],
  ["bsdtar", { debianPackage: "libarchive-tools", enables: "install.sh with bsdtar (macOS's tar)" }],
  ["shellcheck", { debianPackage: "shellcheck", enables: "install.sh's lint" }],
  ["bwrap", { debianPackage: "bubblewrap", enables: "real sandboxes: containment, launch, limits, seccomp" }],
  ["prlimit", { debianPackage: "util-linux", enables: "sandbox resource limits" }],
  [
    "openssl",
    {
      debianPackage: "openssl",
      enables: "loopback TLS servers (egress, https release server), install.sh's openssl hashing",
    },
  ],
  ["curl", { debianPackage: "curl", enables: "install.sh with curl" }],
  ["wget", { debianPackage: "wget", enables: "install.sh with GNU Wget" }],
  ["mkfifo", { debianPackage: "coreutils", enables: "FIFO attacks on readers" }],
  ["sha256sum", { debianPackage: "coreutils", enables: "checksum files compared with coreutils" }],
  ["shasum", { debianPackage: "perl", enables: "install.sh with shasum (macOS's tool)" }],
  [
    "chromium",
    {
      debianPackage: "chromium",
      enables: "the approvals console in a real browser (sign-in, approval, CSRF, CSP)",
    },
  ],
  [
    "ip",
    {
      debianPackage: "iproute2",
      enables:
        "a network namespace where a public name and address are served on this host (the README's agent demo)",
    },
  ],
  ["python3", { debianPackage: "python3", enables: "archives made by another implementation (tarfile)" }],
]);

const SEARCHED = ["/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin"];

/** Where a tool is, on PATH or in the usual system directories; undefined when it is nowhere. */
export function findSystemTool(command: string): string | undefined {
  // A test seam: what a machine without these tools does, on a machine that has them.
  if ((process.env.IRONCLAW_PRETEND_MISSING ?? "").split(",").includes(command)) return undefined;
  const path = (process.env.PATH ?? "").split(delimiter).filter((dir) => dir !== "");
  for (const dir of [...path, ...SEARCHED]) {
    const candidate = join(dir, command);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Set by scripts/run-tests.mjs (and the vitest global setup): where skipped suites are recorded. */
export const SKIP_LOG_ENV = "IRONCLAW_SKIP_LOG";
export const REQUIRE_ENV = "IRONCLAW_REQUIRE_SYSTEM_TOOLS";

export interface SkipRecord {
  readonly suite: string;
  readonly missing: readonly string[];
  /** The Debian packages that bring the missing tools. */
  readonly packages: readonly string[];
  readonly reason?: string;
}

/** Records a skipped suite for the summary at the end of `npm test`, and says so at once. */
export function recordSkip(record: SkipRecord): void {
  const log = process.env[SKIP_LOG_ENV];
  if (log !== undefined && log !== "") appendFileSync(log, `${JSON.stringify(record)}\n`);
  const what = record.missing.length > 0 ? `needs ${record.missing.join(", ")}` : (record.reason ?? "");
  console.warn(`SKIPPED ${record.suite}: ${what}`);
}

function packagesFor(missing: readonly string[]): string[] {
  return [...new Set(missing.map((tool) => SYSTEM_TOOLS.get(tool)?.debianPackage ?? tool))];
}

function installLine(missing: readonly string[]): string {
  return `apt-get install -y ${packagesFor(missing).join(" ")}`;
}

/**
 * Whether a suite can run: every tool is there. Where one is missing, the suite is skipped and
 * recorded for the summary, unless IRONCLAW_REQUIRE_SYSTEM_TOOLS=1 (CI): then this throws, naming
 * the missing tools, so the suite fails instead of passing by skipping.
 */
export function haveSystemTools(suite: string, commands: readonly string[]): boolean {
  const missing = commands.filter((command) => findSystemTool(command) === undefined);
  if (missing.length === 0) return true;
  if (process.env[REQUIRE_ENV] === "1") {
    throw new Error(
      `${suite} needs ${missing.join(", ")}, which this machine lacks, and ${REQUIRE_ENV}=1 makes every suite mandatory: ${installLine(missing)}`,
    );
  }
  recordSkip({ suite, missing, packages: packagesFor(missing) });
  return false;
}
