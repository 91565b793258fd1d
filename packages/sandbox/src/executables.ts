import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/** The absolute path of a program on PATH (or the usual system directories), or undefined. */
export function findExecutable(name: string, path = process.env.PATH ?? ""): string | undefined {
  const dirs = [
    ...path.split(delimiter).filter((dir) => dir.startsWith("/")),
    "/usr/bin",
    "/bin",
    "/usr/sbin",
  ];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
