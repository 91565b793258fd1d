import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { BuildOptions, Plugin } from "esbuild";

/**
 * The options of tsconfig.base.json that change emitted JavaScript, given to esbuild as one
 * configuration for every file. Left to find tsconfig.json files itself, esbuild applies whichever it
 * meets first on a parallel path, so "use strict" came and went between builds (evanw/esbuild#3284).
 */
export const ESBUILD_TSCONFIG = {
  compilerOptions: {
    alwaysStrict: true,
    verbatimModuleSyntax: true,
    useDefineForClassFields: true,
    target: "ES2022",
  },
} as const;

/**
 * Resolves `@ironclaw/<package>[/<entry>]` to that entry's TypeScript source in the tree being built
 * (its `ironclaw-source` export), never to node_modules' links, which point at whichever checkout ran
 * `npm ci`. Only the listed packages may be bundled.
 */
export function workspaceSources(root: string, packages: readonly string[]): Plugin {
  return {
    name: "ironclaw-workspace-sources",
    setup(builder) {
      builder.onResolve({ filter: /^@ironclaw\// }, ({ path }) => {
        const [, name = "", ...rest] = path.split("/");
        if (!packages.includes(name)) {
          return {
            errors: [
              { text: `${path} is not one of the packages this bundle may contain (${packages.join(", ")})` },
            ],
          };
        }
        const directory = join(root, "packages", name);
        const manifest = JSON.parse(readFileSync(join(directory, "package.json"), "utf8")) as {
          exports: Record<string, { "ironclaw-source"?: string }>;
        };
        const subpath = rest.length === 0 ? "." : `./${rest.join("/")}`;
        const entry = manifest.exports[subpath]?.["ironclaw-source"];
        if (entry === undefined)
          return { errors: [{ text: `${path}: packages/${name} exports no ${subpath} source` }] };
        return { path: join(directory, entry) };
      });
    },
  };
}

/**
 * The esbuild options every IronClaw bundle shares, each one that affects the bytes set explicitly:
 * one file in memory, sources from the tree being built, one tsconfig, minified whitespace and syntax
 * (which also drops the path comments esbuild would write), names kept readable, licences at the end,
 * no source map, no metafile. Callers add the entry, target, format and any defines.
 */
export function deterministicBundleOptions(
  root: string,
  packages: readonly string[],
): BuildOptions & { write: false } {
  return {
    absWorkingDir: root,
    bundle: true,
    write: false,
    platform: "node",
    plugins: [workspaceSources(root, packages)],
    tsconfigRaw: ESBUILD_TSCONFIG,
    preserveSymlinks: true,
    minifyWhitespace: true,
    minifySyntax: true,
    minifyIdentifiers: false,
    keepNames: false,
    legalComments: "eof",
    charset: "utf8",
    sourcemap: false,
    metafile: false,
    treeShaking: true,
    logLevel: "silent",
  };
}

/** The line of commander's lib/command.js that loads child_process, used only for executable subcommands. */
const COMMANDER_CHILD_PROCESS = "const childProcess = require('node:child_process');";

/**
 * Commander loads child_process when it is loaded, for executable subcommands, which IronClaw has
 * none of: about a millisecond of every start. This defers the require to the first spawn. If the
 * line is not found (another commander), the build fails rather than silently losing this.
 */
export function lazyCommanderChildProcess(): Plugin {
  return {
    name: "ironclaw-lazy-commander-child-process",
    setup(builder) {
      builder.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, ({ path }) => {
        const source = readFileSync(path, "utf8");
        if (!source.includes(COMMANDER_CHILD_PROCESS))
          return { errors: [{ text: `${path} no longer has the line ${COMMANDER_CHILD_PROCESS}` }] };
        const lazy =
          "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) };";
        return { contents: source.replace(COMMANDER_CHILD_PROCESS, lazy), loader: "js" };
      });
    },
  };
}
