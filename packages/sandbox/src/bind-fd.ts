import { execFileSync } from "node:child_process";

/** Whether a bwrap --help text offers --ro-bind-fd and --bind-fd (bubblewrap 0.9, and 0.8 backports). */
export function helpOffersBindFd(help: string): boolean {
  return /^\s*--ro-bind-fd\s/m.test(help) && /^\s*--bind-fd\s/m.test(help);
}

const known = new Map<string, boolean>();

/**
 * Asked once per bwrap binary: without --bind-fd a mount could only be bound by name, which a swap
 * after the check could redirect, so no mount is bound at all.
 */
export function bwrapBindsFds(bwrap: string): boolean {
  let offers = known.get(bwrap);
  if (offers === undefined) {
    try {
      offers = helpOffersBindFd(
        execFileSync(bwrap, ["--help"], { encoding: "utf8", env: {}, timeout: 10_000, maxBuffer: 1 << 20 }),
      );
    } catch {
      offers = false;
    }
    known.set(bwrap, offers);
  }
  return offers;
}
