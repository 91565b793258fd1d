/**
 * postject's ELF parser (LIEF) warns once per unnamed note section of Node's binary, "Can't find
 * string offset for section name '.note.100'": nine alarming lines per build that nobody can act on,
 * since the injection is sound (release:repro and the executable tests check its result). They come
 * through console.warn, which postject binds when each injection starts; only these lines are dropped.
 */
const LIEF_NOTE_WARNING = /^warning: Can't find string offset for section name '\.note(\.\d+)?'$/;

export function isLiefNoteWarning(args: readonly unknown[]): boolean {
  return args.length === 1 && typeof args[0] === "string" && LIEF_NOTE_WARNING.test(args[0]);
}

export async function withoutLiefNoteWarnings<T>(work: () => Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!isLiefNoteWarning(args)) warn(...args);
  };
  try {
    return await work();
  } finally {
    console.warn = warn;
  }
}
