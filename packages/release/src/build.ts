import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { formatChecksums, sha256File } from "@ironclaw/verify/checksums";
import type { ArchiveEntry } from "./archive-entries.js";
import { bundleCli } from "./bundle.js";
import {
  archiveName,
  BLOB_BUILDER_PACKAGE,
  EXECUTABLE_TARGETS,
  type ExecutableTarget,
  executableName,
  nodeArchiveName,
  targetName,
} from "./config.js";
import type { JoinedScript } from "./lazy-chunks.js";
import { buildExecutable } from "./sea.js";
import type { SourceInfo } from "./source-info.js";
import { createTarGz } from "./tar-gz.js";
import { ensureTargetNodes, nodeBinary } from "./target-nodes.js";
import { createZip } from "./zip.js";

export const NODE_TARGET = "node";
/** What the platform-independent archive runs with `node`: the one file upgrade replaces for such installs. */
export const NODE_BUNDLE_NAME = "ironclaw.cjs";
/** The installers every release ships beside its archives (DESIGN §2), from the root of the source. */
export const INSTALLER_NAMES: readonly string[] = ["install.ps1", "install.sh"];

export interface BuildOptions {
  readonly source: SourceInfo;
  readonly outDir: string;
  /** Target names (`linux_amd64`, `windows_amd64`, `node`…); all that can be built here when absent. */
  readonly targets?: readonly string[];
  /** Called as each step finishes, for progress on the terminal. */
  readonly log?: (message: string) => void;
}

export interface BuiltExecutable {
  readonly target: string;
  /** The archive it ships in, and its path inside. */
  readonly archive: string;
  readonly name: string;
  readonly sha256: string;
}

export interface BuildResult {
  readonly source: SourceInfo;
  /** Asset file names in outDir. */
  readonly archives: readonly string[];
  /** The installers copied into outDir, byte for byte: assets too, listed in SHA256SUMS and attested. */
  readonly installers: readonly string[];
  readonly executables: readonly BuiltExecutable[];
  readonly skipped: readonly { readonly target: string; readonly reason: string }[];
}

export function knownTargets(): string[] {
  return [...EXECUTABLE_TARGETS.map(targetName), NODE_TARGET];
}

/** Builds the archives of a release into an empty directory. */
export async function buildRelease(options: BuildOptions): Promise<BuildResult> {
  const { source, outDir } = options;
  const log = options.log ?? (() => {});
  const selected = new Set(options.targets ?? knownTargets());
  for (const name of selected) {
    if (!knownTargets().includes(name))
      throw new Error(`unknown target ${JSON.stringify(name)}; known: ${knownTargets().join(", ")}`);
  }
  await mkdir(outDir, { recursive: true });
  if ((await readdir(outDir)).length > 0)
    throw new Error(`${outDir} is not empty; a release is built into an empty directory`);

  const common: ArchiveEntry[] = [
    { name: "LICENSE", data: await readFile(join(source.root, "LICENSE")), executable: false },
    { name: "README.md", data: await readFile(join(source.root, "README.md")), executable: false },
  ];
  const archives: string[] = [];
  const executables: BuiltExecutable[] = [];
  const skipped: { target: string; reason: string }[] = [];

  if (selected.has(NODE_TARGET)) {
    const { script: bundle } = await bundleCli(source, "node");
    const name = nodeArchiveName(source.version);
    const entries = [{ name: NODE_BUNDLE_NAME, data: bundle, executable: false }, ...common];
    await writeFile(join(outDir, name), await createTarGz(entries, source.sourceDateEpoch));
    archives.push(name);
    executables.push({
      target: NODE_TARGET,
      archive: name,
      name: NODE_BUNDLE_NAME,
      sha256: createHash("sha256").update(bundle).digest("hex"),
    });
    log(`built ${name}`);
  }

  const wanted = EXECUTABLE_TARGETS.filter((target) => selected.has(targetName(target)));
  const buildable = wanted.filter((target) => {
    if ("unavailable" in target.node)
      skipped.push({ target: targetName(target), reason: target.node.unavailable });
    return !("unavailable" in target.node);
  });
  if (buildable.length > 0) {
    const modules = await ensureTargetNodes(join(source.root, "packages", "release", "targets"));
    const script = await bundleCli(source, "executable");
    for (const target of buildable) {
      const built = await buildTargetArchive(target, script, modules, common, options);
      archives.push(built.archive);
      executables.push(built);
      log(`built ${built.archive}`);
    }
  }
  const installers = await copyInstallers(source.root, outDir);
  log(`copied ${installers.join(", ")}`);
  return { source, archives, installers, executables, skipped };
}

/** Every release has its installers; a source without them cannot make a release. */
async function copyInstallers(root: string, outDir: string): Promise<string[]> {
  for (const name of INSTALLER_NAMES) {
    let bytes: Buffer;
    try {
      bytes = await readFile(join(root, name));
    } catch (error) {
      throw new Error(
        `a release ships ${name}, but ${join(root, name)} cannot be read (${(error as NodeJS.ErrnoException).code ?? error}); build from a commit that has the installers`,
      );
    }
    await writeFile(join(outDir, name), bytes);
  }
  return [...INSTALLER_NAMES];
}

async function buildTargetArchive(
  target: ExecutableTarget,
  script: JoinedScript,
  modules: string,
  common: readonly ArchiveEntry[],
  options: BuildOptions,
): Promise<BuiltExecutable> {
  if ("unavailable" in target.node) throw new Error(target.node.unavailable);
  const executable = await buildExecutable({
    script: script.script,
    assets: script.assets,
    targetNode: nodeBinary(modules, target.node),
    blobBuilderNode: nodeBinary(modules, BLOB_BUILDER_PACKAGE),
    macos: target.os === "darwin",
  });
  const name = executableName(target);
  const entries = [{ name, data: executable, executable: true }, ...common];
  const archive = archiveName(options.source.version, target);
  const bytes =
    target.os === "windows"
      ? createZip(entries, options.source.sourceDateEpoch)
      : await createTarGz(entries, options.source.sourceDateEpoch);
  await writeFile(join(options.outDir, archive), bytes);
  return {
    target: targetName(target),
    archive,
    name,
    sha256: createHash("sha256").update(executable).digest("hex"),
  };
}

/** Writes SHA256SUMS over the named assets of `dir`, with the verify package's canonical writer. */
export async function writeChecksums(dir: string, names: readonly string[]): Promise<string> {
  const files = [];
  for (const name of names) files.push({ name, sha256: (await sha256File(join(dir, name))).sha256 });
  const document = formatChecksums(files);
  await writeFile(join(dir, "SHA256SUMS"), document);
  return document;
}
