import { dirname, resolve } from "node:path";
import {
  assertSafeName,
  type ChecksumsVerification,
  compareNames,
  type FileSelection,
  formatChecksums,
  readChecksumsFile,
  readChecksumsStream,
  sha256File,
  verifyChecksumsInDirectory,
} from "@ironclaw/verify/checksums";
import type { Command } from "commander";
import { CliError } from "../errors.js";
import { ExitCode } from "../exit-codes.js";
import { colorEnabled } from "../terminal/color.js";
import { progressOnTerminal } from "../terminal/progress.js";
import {
  CHECKSUMS_CREATE_SCHEMA,
  printableName,
  renderVerifyReport,
  verifyReportDocument,
} from "./checksums-report.js";
import { type CommandContext, type JsonOption, writeJson } from "./context.js";

interface VerifyOptions extends JsonOption {
  readonly file?: string;
  readonly dir?: string;
  readonly ignoreMissing?: boolean;
}

interface CreateOptions extends JsonOption {
  readonly dir?: string;
  readonly output?: string;
}

/** Names `--file -`: the checksums come from standard input. */
const STDIN = "-";

/** Where SHA256SUMS is and where its files live: `--dir` for both, `--file` for the list alone. */
export function locateChecksums(cwd: string, options: VerifyOptions): { file: string; directory: string } {
  if (options.file === STDIN) return { file: STDIN, directory: resolve(cwd, options.dir ?? ".") };
  if (options.file !== undefined) {
    const file = resolve(cwd, options.file);
    return { file, directory: resolve(cwd, options.dir ?? dirname(file)) };
  }
  const directory = resolve(cwd, options.dir ?? ".");
  return { file: resolve(directory, "SHA256SUMS"), directory };
}

export function exitCodeForVerification(report: ChecksumsVerification): ExitCode {
  if (report.ok) return ExitCode.ok;
  // Only unreadable files, nothing that said no: the environment, not the release, is at fault.
  const { counts } = report;
  const onlyErrors = counts.ERROR > 0 && counts.FAILED + counts.MISSING + counts.NOT_LISTED === 0;
  return onlyErrors ? ExitCode.environment : ExitCode.rejected;
}

async function verifyAction(names: string[], options: VerifyOptions, context: CommandContext): Promise<void> {
  const { io } = context;
  if (names.length > 0 && options.ignoreMissing === true) {
    throw new CliError(
      "IC_USAGE",
      "--ignore-missing applies only when every listed file is verified; a file named on the command line must exist",
    );
  }
  const { file, directory } = locateChecksums(io.cwd, options);
  const list = file === STDIN ? await readChecksumsStream(io.stdin) : await readChecksumsFile(file);
  const selection: FileSelection =
    names.length > 0
      ? { kind: "named", names }
      : { kind: "all", ignoreMissing: options.ignoreMissing === true };
  const report = await verifyChecksumsInDirectory(list, directory, selection, (name) => {
    const progress = progressOnTerminal(io.stderr, `hashing ${printableName(name)}`);
    return {
      onProgress: (done, total) => {
        progress.update(done, total);
        if (done === total) progress.finish();
      },
    };
  });
  const reportContext = { checksumsFile: file, directory, ignoreMissing: options.ignoreMissing === true };
  if (options.json === true) writeJson(io, verifyReportDocument(report, reportContext));
  else io.stdout.write(renderVerifyReport(report, reportContext, colorEnabled(io.stdout, io.env)));
  context.setExitCode(exitCodeForVerification(report));
}

async function createAction(files: string[], options: CreateOptions, context: CommandContext): Promise<void> {
  const { io } = context;
  const directory = resolve(io.cwd, options.dir ?? ".");
  const hashed = [];
  for (const name of files) {
    assertSafeName(name);
    const progress = progressOnTerminal(io.stderr, `hashing ${name}`);
    const digest = await sha256File(resolve(directory, name), {
      onProgress: (done, total) => progress.update(done, total),
    });
    progress.finish();
    hashed.push({ name, sha256: digest.sha256, size: digest.size });
  }
  const document = formatChecksums(hashed);
  const output = options.output === undefined ? undefined : resolve(io.cwd, options.output);
  if (output !== undefined) {
    // Loaded here: its durable replace needs node:fs/promises, which `checksums verify` never does.
    const { writeFileAtomic } = await import("../fs/atomic-write.js");
    await writeFileAtomic(output, document);
  }
  if (options.json === true) {
    writeJson(io, {
      schema: CHECKSUMS_CREATE_SCHEMA,
      ok: true,
      output: output ?? null,
      document,
      files: [...hashed].sort((a, b) => compareNames(a.name, b.name)),
    });
  } else if (output === undefined) {
    io.stdout.write(document);
  } else {
    io.stdout.write(`wrote ${output} (${hashed.length} ${hashed.length === 1 ? "file" : "files"})\n`);
  }
  context.setExitCode(ExitCode.ok);
}

export function registerChecksumsCommands(program: Command, context: CommandContext): void {
  const checksums = program
    .command("checksums")
    .description("verify or create SHA256SUMS files (strict sha256sum -c / sha256sum)");

  checksums
    .command("verify")
    .description("check files against a SHA256SUMS file; exact names, every listed file by default")
    .argument("[names...]", "verify only these names, exactly as listed; each must be listed and match")
    .option("--file <path>", "the checksums file, or - for standard input (default: SHA256SUMS in --dir)")
    .option(
      "--dir <dir>",
      "directory holding the listed files (default: the checksums file's directory, or .)",
    )
    .option("--ignore-missing", "skip listed files that are absent (at least one must still verify)")
    .option("--json", "print a JSON report")
    .addHelpText(
      "after",
      `
Exit codes: 0 every required file matched; 1 a file failed, was missing or not listed;
2 the checksums file is malformed or the usage is wrong; 3 a file could not be read.

Examples:
  ironclaw checksums verify --dir ./release
  ironclaw checksums verify --file SHA256SUMS ironclaw_1.2.3_linux_amd64.tar.gz
  ironclaw checksums create *.tar.gz | ironclaw checksums verify --file -`,
    )
    .action((names: string[], options: VerifyOptions) => verifyAction(names, options, context));

  checksums
    .command("create")
    .description("write a canonical SHA256SUMS (sorted by name, LF, two spaces) for the given files")
    .argument("<files...>", "file names relative to --dir, as they will be listed")
    .option("--dir <dir>", "directory the names are relative to (default: .)")
    .option("--output <path>", "write the list to this file atomically instead of standard output")
    .option("--json", "print a JSON report")
    .addHelpText(
      "after",
      `
Example:
  ironclaw checksums create --dir ./release --output ./release/SHA256SUMS \\
    ironclaw_1.2.3_linux_amd64.tar.gz ironclaw_1.2.3_node.tar.gz`,
    )
    .action((files: string[], options: CreateOptions) => createAction(files, options, context));
}
