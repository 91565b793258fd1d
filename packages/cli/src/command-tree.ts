import type { Command } from "commander";

/** Every command below `root`, depth first, with its full name (`checksums verify`). */
export function walkCommands(root: Command): Array<{ readonly path: string; readonly command: Command }> {
  const found: Array<{ path: string; command: Command }> = [];
  const visit = (command: Command, prefix: string) => {
    for (const sub of command.commands) {
      if (sub.name() === "help") continue;
      const path = prefix === "" ? sub.name() : `${prefix} ${sub.name()}`;
      found.push({ path, command: sub });
      visit(sub, path);
    }
  };
  visit(root, "");
  return found;
}

/**
 * Gives every command `--json`, groups included, so that `--json` is never an unknown option and a
 * usage error can always answer in JSON.
 */
export function acceptJsonEverywhere(root: Command): void {
  for (const { command } of walkCommands(root)) {
    if (!command.options.some((option) => option.long === "--json"))
      command.option("--json", "answer in JSON, errors included");
  }
}

/** One line per command: its full usage, then its description's first line. */
export function commandSynopses(root: Command): string {
  const rows = walkCommands(root).map(({ path, command }) => {
    const usage = command.usage().replace(/^\[options\] ?/, "");
    const summary = (command.description().split("\n")[0] ?? "").replace(/(; |: | \().*$/, "").trim();
    return [`ironclaw ${path}${usage === "" ? "" : ` ${usage}`}`, summary] as const;
  });
  const width = Math.min(Math.max(...rows.map(([usage]) => usage.length)) + 2, 60);
  return rows
    .map(([usage, summary]) =>
      usage.length + 2 > width
        ? `  ${usage}\n  ${" ".repeat(width)}${summary}`
        : `  ${usage.padEnd(width)}${summary}`,
    )
    .join("\n");
}

/** The command a command line names (the deepest one its words reach), and that command's path. */
export function commandNamedBy(root: Command, argv: readonly string[]): { path: string; command: Command } {
  let command = root;
  const path: string[] = [];
  for (const word of argv) {
    if (word.startsWith("-")) continue;
    const sub = command.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (sub === undefined) break;
    command = sub;
    path.push(sub.name());
  }
  return { path: path.join(" "), command };
}
