// Shared by the release scripts: flags, the source being built, and the report they print.
import { statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

export const repositoryRoot = dirname(dirname(fileURLToPath(import.meta.url)));

export async function loadRelease() {
  try {
    return await import(join(repositoryRoot, "packages", "release", "dist", "index.js"));
  } catch (error) {
    console.error(`the release package is not built (${error.message}); run npm run build first`);
    process.exit(3);
  }
}

export function parseFlags(extra = {}) {
  const { values } = parseArgs({
    options: {
      out: { type: "string" },
      targets: { type: "string" },
      version: { type: "string" },
      source: { type: "string" },
      "allow-dirty": { type: "boolean" },
      ...extra,
    },
    strict: true,
  });
  return values;
}

/** The commit being built; a tree with uncommitted changes is not what its commit says, so it needs --allow-dirty. */
export function sourceFor(release, values) {
  const root = resolve(values.source ?? repositoryRoot);
  const source = release.readSourceInfo(
    root,
    values.version === undefined ? {} : { version: values.version },
  );
  if (source.dirty && values["allow-dirty"] !== true) {
    console.error(
      `${root} has uncommitted changes: the build would not be what commit ${source.commit} says. Commit them, or pass --allow-dirty.`,
    );
    process.exit(2);
  }
  return source;
}

export function targetsFrom(values) {
  return values.targets === undefined
    ? undefined
    : values.targets.split(",").filter((name) => name.length > 0);
}

export function report(outDir, names, result, started) {
  const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  console.log(
    `ironclaw ${result.source.version} (commit ${result.source.commit}, SOURCE_DATE_EPOCH ${result.source.sourceDateEpoch}) in ${outDir}:`,
  );
  for (const name of names)
    console.log(`  ${name.padEnd(44)} ${mib(statSync(join(outDir, name)).size).padStart(10)}`);
  for (const { target, reason } of result.skipped) console.log(`  skipped ${target}: ${reason}`);
  console.log(`built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
