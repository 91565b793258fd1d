import { describe, expect, it } from "vitest";
import { walkCommands } from "../src/command-tree.js";
import type { CommandIo } from "../src/io.js";
import { buildProgram, COMMAND_GROUPS } from "../src/program.js";

const io: CommandIo = {
  stdin: (async function* () {})(),
  stdout: { write: () => true },
  stderr: { write: () => true },
  env: {},
  cwd: process.cwd(),
};
const context = { io, setExitCode: () => {} };
const topLevel = (argv?: readonly string[]) =>
  buildProgram(context, {}, argv)
    .commands.map((command) => command.name())
    .filter((name) => name !== "help");
const everyPath = (argv?: readonly string[]) =>
  walkCommands(buildProgram(context, {}, argv)).map((c) => c.path);

describe("a command line builds only the commands it names", () => {
  it("lists, for each group, exactly the top-level commands it registers, and every command is in one", () => {
    const all = topLevel();
    expect(COMMAND_GROUPS.flatMap(([names]) => names).sort()).toEqual([...all].sort());
    for (const [names] of COMMAND_GROUPS) {
      for (const name of names) expect(topLevel([name, "--json"]).sort()).toEqual([...names].sort());
    }
  });

  it("gives a named command the same subtree, options included, as the whole program has", () => {
    const whole = buildProgram(context);
    for (const [names] of COMMAND_GROUPS) {
      const name = names[0] as string;
      const alone = buildProgram(context, {}, [name]);
      const options = (program: typeof whole) =>
        walkCommands(program)
          .filter(({ path }) => names.includes(path.split(" ")[0] as string))
          .map(({ path, command }) => `${path}: ${command.options.map((option) => option.flags).join(" ")}`);
      expect(options(alone)).toEqual(options(whole));
    }
  });

  it("builds every command for root options, help, and a word that names no command", () => {
    const all = everyPath();
    for (const argv of [[], ["--help"], ["help", "checksums"], ["chcksums"], ["--json", "checksums"]])
      expect(everyPath(argv)).toEqual(all);
  });
});
