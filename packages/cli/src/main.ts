import { type Command, CommanderError } from "commander";
import { commandNamedBy } from "./command-tree.js";
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
  const json = jsonRequested(argv);
  let usageText = "";
  const program = buildProgram(
    {
      io,
      setExitCode: (code) => {
        exitCode = code;
      },
      ...(options.prefetch === undefined ? {} : { prefetch: options.prefetch }),
    },
    json ? { usageError: (text) => (usageText += text) } : {},
    argv,
  );
  try {
    await program.parseAsync([...argv], { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (COMMANDER_SUCCESS.has(error.code)) return ExitCode.ok;
      // Without --json, Commander has already printed its message or the help.
      if (json) {
        const message =
          error.code === "commander.help"
            ? missingCommand(program, argv)
            : (usageText.trim() || error.message).replace(/^error: /, "").replace(/\n/g, " ");
        writeJson(io, {
          schema: ERROR_SCHEMA,
          ok: false,
          exitCode: ExitCode.usage,
          error: { code: "IC_USAGE", message },
        });
      }
      return ExitCode.usage;
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

function missingCommand(program: Command, argv: readonly string[]): string {
  const { path, command } = commandNamedBy(program, argv);
  const names = command.commands.map((c) => c.name()).filter((name) => name !== "help");
  return `ironclaw ${path} needs one of its commands: ${names.join(", ")} (ironclaw ${path} --help)`;
}

export async function runFromProcess(options: { readonly prefetch?: HashingPrefetch } = {}): Promise<void> {
  process.exitCode = await run(process.argv.slice(2), processIo(), options);
}
