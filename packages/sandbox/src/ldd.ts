import { execFileSync } from "node:child_process";
import { SandboxError } from "./errors.js";

/**
 * The absolute paths in `ldd` output: each `name => /path (addr)` and the loader's `/path (addr)`.
 * The vDSO has no file; a library `ldd` cannot find is an error, not something to leave out.
 */
export function parseLdd(output: string): string[] {
  const paths: string[] = [];
  for (const line of output.split("\n")) {
    const text = line.trim();
    if (text === "" || text.startsWith("linux-vdso") || text.startsWith("linux-gate")) continue;
    if (/statically linked|not a dynamic executable/.test(text)) continue;
    if (/=>\s*not found/.test(text)) throw new SandboxError("IC_SANDBOX_LDD_FAILED", `ldd: ${text}`);
    const match = /(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)$/.exec(text);
    if (match?.[1] === undefined)
      throw new SandboxError("IC_SANDBOX_LDD_FAILED", `unexpected ldd line: ${text}`);
    if (!paths.includes(match[1])) paths.push(match[1]);
  }
  return paths;
}

const cache = new Map<string, readonly string[]>();

/**
 * The shared libraries (and loader) of a host binary, at the paths the loader looks for them.
 * Resolved once per binary: ldd runs the loader, so it is not something to repeat per launch.
 */
export function hostLibraries(binary: string): readonly string[] {
  const known = cache.get(binary);
  if (known !== undefined) return known;
  let output: string;
  try {
    output = execFileSync("ldd", [binary], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    // ldd exits 1 for a static binary, which needs no libraries at all.
    const said = `${String((error as { stdout?: unknown }).stdout ?? "")}${String((error as { stderr?: unknown }).stderr ?? "")}`;
    if (!said.includes("not a dynamic executable"))
      throw new SandboxError("IC_SANDBOX_LDD_FAILED", `ldd ${binary} failed`, { cause: error });
    output = "";
  }
  const libraries = Object.freeze(parseLdd(output));
  cache.set(binary, libraries);
  return libraries;
}
