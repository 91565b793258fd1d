import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

export const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
export const INSTALL_SH = join(ROOT, "install.sh");
export const INSTALL_PS1 = join(ROOT, "install.ps1");

/** The three shells the installer must run under, each as a user would start it. */
export const SHELLS = [
  { name: "dash", argv: ["/usr/bin/dash"] },
  { name: "bash", argv: ["/usr/bin/bash"] },
  { name: "busybox sh", argv: ["/usr/bin/busybox", "sh"] },
] as const;
export type Shell = (typeof SHELLS)[number];

/** What install.sh calls besides its shell's builtins, when curl and sha256sum are the tools found. */
export const BASE_TOOLS = [
  "uname",
  "mktemp",
  "rm",
  "mkdir",
  "cp",
  "mv",
  "chmod",
  "tar",
  "gzip",
  "awk",
  "head",
  "wc",
  "sleep",
];

function systemTool(name: string): string {
  for (const dir of ["/usr/bin", "/bin", "/usr/sbin", "/sbin"]) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  throw new Error(
    `the installer tests need ${name} in /usr/bin, /bin, /usr/sbin or /sbin, and it is in none: install it (.ci/run does)`,
  );
}

/**
 * A directory to be the whole PATH: symlinks to the named system tools, and scripts standing in for
 * others (`uname` on another platform, say). Nothing else is found, so a test says exactly what exists.
 */
export function toolDir(
  parent: string,
  tools: readonly string[],
  scripts: Record<string, string> = {},
  links: Record<string, string> = {},
): string {
  const dir = mkdtempSync(join(parent, "path-"));
  // A stand-in replaces the system tool of its name; it is never written through that tool's symlink.
  const replaced = new Set([...Object.keys(scripts), ...Object.keys(links)]);
  for (const tool of tools) if (!replaced.has(tool)) symlinkSync(systemTool(tool), join(dir, tool));
  for (const [name, target] of Object.entries(links)) symlinkSync(target, join(dir, name));
  for (const [name, body] of Object.entries(scripts)) {
    writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`, { flag: "wx", mode: 0o755 });
  }
  return dir;
}

/** `uname` for a platform this machine is not. */
export function fakeUname(os: string, arch: string): string {
  return `case "$1" in -s) echo ${os} ;; -m) echo ${arch} ;; *) echo ${os} ;; esac`;
}

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly env: Record<string, string>;
  readonly cwd: string;
  /** Feed the script on standard input (`cat install.sh | sh`) instead of naming the file. */
  readonly piped?: boolean;
  /** Arguments after the script's name (file form only). */
  readonly args?: readonly string[];
  /** Called with the child once it has started, for tests that signal it. */
  readonly started?: (child: ReturnType<typeof spawn>, output: () => string) => void;
}

/** Runs the installer under a shell with exactly the given environment; async, so a server in this process answers. */
export function runInstaller(shell: Shell, options: RunOptions): Promise<RunResult> {
  const script = INSTALL_SH;
  const [command, ...args] = shell.argv;
  return new Promise((resolve, reject) => {
    const child = spawn(
      command as string,
      options.piped ? args : [...args, script, ...(options.args ?? [])],
      {
        cwd: options.cwd,
        env: options.env,
        // Its own process group, so a test can send Ctrl-C to the shell and its downloader together.
        detached: true,
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
    if (options.piped) child.stdin.end(readFileSync(script));
    else child.stdin.end();
    options.started?.(child, () => stdout + stderr);
  });
}

/** One test's corner of the file system: HOME, TMPDIR, a working directory, and where to install. */
export class Sandbox {
  readonly root: string;
  readonly home: string;
  readonly tmp: string;
  readonly cwd: string;
  readonly installDir: string;

  constructor(parent: string) {
    this.root = mkdtempSync(join(parent, "sandbox-"));
    this.home = join(this.root, "home");
    this.tmp = join(this.root, "tmp");
    this.cwd = join(this.root, "cwd");
    this.installDir = join(this.root, "install", "bin");
    for (const dir of [this.home, this.tmp, this.cwd]) mkdirSync(dir);
  }

  /** The environment a user would have, with PATH replaced by the tool directory. */
  env(path: string, extra: Record<string, string> = {}): Record<string, string> {
    return {
      PATH: path,
      // bash sets SHELL from the password file when it is unset; a test says which shell the user has.
      SHELL: "/bin/sh",
      HOME: this.home,
      TMPDIR: this.tmp,
      IRONCLAW_INSTALL_DIR: this.installDir,
      ...extra,
    };
  }

  /** Everything left behind in TMPDIR (the installer's temporary directory must be gone). */
  leftInTmp(): string[] {
    return readdirSync(this.tmp);
  }

  /** Every file under the install directory's parent, staged copies included. */
  installed(): string[] {
    const parent = join(this.root, "install");
    return existsSync(parent) ? listTree(parent) : [];
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

export function listTree(dir: string, prefix = ""): string[] {
  const names: string[] = [];
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const name = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
    names.push(name);
    if (entry.isDirectory()) names.push(...listTree(dir, name));
  }
  return names;
}

/**
 * A copy of a release directory made of symlinks, with some files replaced (bytes) or left out (null):
 * a variant of a 35 MB release costs nothing to make.
 */
export function variantOf(
  base: string,
  parent: string,
  changes: Record<string, Uint8Array | string | null>,
): string {
  const dir = mkdtempSync(join(parent, "variant-"));
  for (const name of readdirSync(base)) {
    if (name in changes) continue;
    symlinkSync(join(base, name), join(dir, name));
  }
  for (const [name, data] of Object.entries(changes)) {
    if (data !== null) writeFileSync(join(dir, name), data);
  }
  return dir;
}

export interface TarEntry {
  readonly name: string;
  readonly data?: string | Uint8Array;
  readonly mode?: number;
  /** A symbolic link to this target instead of a file. */
  readonly symlinkTo?: string;
  /** A hard link to this target instead of a file. */
  readonly hardlinkTo?: string;
  /** A FIFO instead of a file. */
  readonly fifo?: boolean;
}

/**
 * A ustar archive, gzipped, written field by field: release tooling (and GNU tar) refuse to write the
 * hostile names these tests need, such as `../x` or `/x`.
 */
export function tarGz(entries: readonly TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const data = Buffer.from(entry.data ?? "");
    const header = Buffer.alloc(512);
    const field = (offset: number, length: number, value: string) =>
      header.write(value, offset, length, "utf8");
    const octal = (offset: number, length: number, value: number) =>
      field(offset, length, `${value.toString(8).padStart(length - 1, "0")}\0`);
    if (Buffer.byteLength(entry.name) > 100) throw new Error(`${entry.name} is too long for a ustar name`);
    field(0, 100, entry.name);
    octal(100, 8, entry.mode ?? 0o755);
    octal(108, 8, 0);
    octal(116, 8, 0);
    const linkTo = entry.symlinkTo ?? entry.hardlinkTo;
    const type =
      entry.symlinkTo !== undefined ? "2" : entry.hardlinkTo !== undefined ? "1" : entry.fifo ? "6" : "0";
    octal(124, 12, type === "0" ? data.length : 0);
    octal(136, 12, 1_700_000_000);
    field(148, 8, "        ");
    field(156, 1, type);
    if (linkTo !== undefined) field(157, 100, linkTo);
    field(257, 6, "ustar\0");
    field(263, 2, "00");
    let sum = 0;
    for (const byte of header) sum += byte;
    field(148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
    blocks.push(header);
    if (type === "0" && data.length > 0) {
      blocks.push(data, Buffer.alloc((512 - (data.length % 512)) % 512));
    }
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

export function sha256Line(name: string, data: Uint8Array | string): string {
  return `${createSha256(data)}  ${name}\n`;
}

export function createSha256(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

export function scratch(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
