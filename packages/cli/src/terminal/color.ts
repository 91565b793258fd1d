import type { CommandIo, OutputStream } from "../io.js";

/** Colours only on a terminal, never when NO_COLOR is set to anything (https://no-color.org), never on TERM=dumb. */
export function colorEnabled(stream: OutputStream, env: CommandIo["env"]): boolean {
  if (stream.isTTY !== true) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  return env.TERM !== "dumb";
}

export interface Palette {
  readonly ok: (text: string) => string;
  readonly bad: (text: string) => string;
  readonly dim: (text: string) => string;
}

const plain = (text: string): string => text;
const sgr =
  (open: number, close: number) =>
  (text: string): string =>
    `\u001b[${open}m${text}\u001b[${close}m`;

export function palette(enabled: boolean): Palette {
  return enabled
    ? { ok: sgr(32, 39), bad: sgr(31, 39), dim: sgr(2, 22) }
    : { ok: plain, bad: plain, dim: plain };
}
