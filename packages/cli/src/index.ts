export { ExitCode, exitCodeForError } from "./exit-codes.js";
export type { CommandIo, OutputStream } from "./io.js";
export { run } from "./main.js";
