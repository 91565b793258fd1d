/**
 * Bounded whole-file reads, alone: a command that reads a bundle or a key needs this, not the release
 * checks the release entry point brings with it (start-up loads what a command imports).
 */
export type { ReadBoundedOptions } from "./files/read-bounded.js";
export { readNamed } from "./files/read-named.js";
