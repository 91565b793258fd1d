import { CommanderError } from "commander";
import { writeJson } from "./commands/context.js";
import { describeError, ExitCode, exitCodeForError } from "./exit-codes.js";
import type { HashingPrefetch } from "./hashing-prefetch.js";
import { type CommandIo, processIo } from "./io.js";
import { buildProgram } from "./program.js";

export const ERROR_SCHEMA = "https://ironclaw.dev/schemas/error/v1";

/** Commander exits that are not failures. */
const COMMANDER_SUCCESS = new Set(["commander.helpDisplayed", "commander.version"]);

function jsonRequested(argv: readonly string[]): boolean {
  const end = argv.indexOf("--");
  return (end === -1 ? argv : argv.slice(0, end)).includes("--json");
}

/** Runs one command line and returns its exit code; never throws, never calls process.exit. */
export async function run(
  argv: readonly string[],
  io: CommandIo,
  options: { readonly prefetch?: HashingPrefetch } = {},
): Promise<ExitCode> {
  let exitCode: ExitCode = ExitCode.ok;
  const program = buildProgram({
    io,
    setExitCode: (code) => {
      exitCode = code;
    },
    ...(options.prefetch === undefined ? {} : { prefetch: options.prefetch }),
  });
  try {
    await program.parseAsync([...argv], { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already printed its message or the help.
      return COMMANDER_SUCCESS.has(error.code) ? ExitCode.ok : ExitCode.usage;
    }
    const described = describeError(error);
    const code = exitCodeForError(described.code);
    if (jsonRequested(argv)) {
      writeJson(io, { schema: ERROR_SCHEMA, ok: false, exitCode: code, error: described });
    } else {
      io.stderr.write(`ironclaw: error ${described.code}: ${described.message}\n`);
    }
    return code;
  } finally {
    options.prefetch?.cancel();
  }
}

export async function runFromProcess(options: { readonly prefetch?: HashingPrefetch } = {}): Promise<void> {
  process.exitCode = await run(process.argv.slice(2), processIo(), options);
}
