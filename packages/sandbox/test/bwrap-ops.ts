/** Splits a bwrap command line into its operations, for assertions. */
const ARITY: Readonly<Record<string, number>> = {
  "--bind": 2,
  "--ro-bind": 2,
  "--dev-bind": 2,
  "--bind-try": 2,
  "--ro-bind-try": 2,
  "--dev-bind-try": 2,
  "--symlink": 2,
  "--bind-fd": 2,
  "--ro-bind-fd": 2,
  "--setenv": 2,
  "--tmpfs": 1,
  "--proc": 1,
  "--dev": 1,
  "--dir": 1,
  "--remount-ro": 1,
  "--cap-drop": 1,
  "--cap-add": 1,
  "--hostname": 1,
  "--chdir": 1,
  "--size": 1,
  "--perms": 1,
  "--seccomp": 1,
  "--add-seccomp-fd": 1,
  "--unsetenv": 1,
};

export interface BwrapOp {
  readonly name: string;
  readonly operands: readonly string[];
}

export function parseBwrap(args: readonly string[]): { ops: BwrapOp[]; command: string[] } {
  const ops: BwrapOp[] = [];
  let index = 0;
  while (index < args.length) {
    const name = args[index] as string;
    if (name === "--") return { ops, command: args.slice(index + 1) };
    const arity = ARITY[name] ?? 0;
    ops.push({ name, operands: args.slice(index + 1, index + 1 + arity) });
    index += 1 + arity;
  }
  return { ops, command: [] };
}

const BIND_OPS = new Set([
  "--bind",
  "--ro-bind",
  "--dev-bind",
  "--bind-try",
  "--ro-bind-try",
  "--dev-bind-try",
]);

/** [source, destination] of every bind. */
export function binds(args: readonly string[]): (readonly [string, string, string])[] {
  return parseBwrap(args)
    .ops.filter((op) => BIND_OPS.has(op.name))
    .map((op) => [op.name, op.operands[0] as string, op.operands[1] as string] as const);
}
