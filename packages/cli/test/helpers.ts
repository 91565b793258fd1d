import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type CommandIo, run } from "@ironclaw/cli";

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly cwd: string;
  readonly env?: Record<string, string | undefined>;
  readonly tty?: boolean;
  readonly stdin?: string | Uint8Array;
}

/** Runs the command in this process with captured streams. */
export async function runCli(argv: readonly string[], options: RunOptions): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const io: CommandIo = {
    stdin: (async function* () {
      if (options.stdin !== undefined) yield Buffer.from(options.stdin);
    })(),
    stdout: { write: (text: string) => (stdout += text), isTTY: options.tty ?? false },
    stderr: { write: (text: string) => (stderr += text), isTTY: options.tty ?? false },
    env: options.env ?? {},
    cwd: options.cwd,
  };
  const code = await run(argv, io);
  return { code, stdout, stderr };
}

export const BIN = fileURLToPath(new URL("../bin/ironclaw.js", import.meta.url));

/** Runs the built command as a user would (npm test builds before the tests run). */
export function spawnCli(argv: readonly string[], cwd: string): CliResult {
  const child = spawnSync(process.execPath, [BIN, ...argv], {
    cwd,
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "" },
  });
  return { code: child.status ?? -1, stdout: child.stdout, stderr: child.stderr };
}

export function temporaryDirectory(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
