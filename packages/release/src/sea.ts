import { execFile } from "node:child_process";
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { inject } from "postject";
import { withoutLiefNoteWarnings } from "./lief-warnings.js";

const run = promisify(execFile);

/** The fuse Node looks for to know a single-executable blob was injected (Node's SEA documentation). */
const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";

export interface ExecutableInputs {
  /** The CommonJS bundle the executable runs (SEA main scripts are CommonJS). */
  readonly script: Uint8Array;
  /** The chunks it loads on demand, by asset name (lazy-chunks.ts). */
  readonly assets: ReadonlyMap<string, Uint8Array>;
  /** The official node binary of the target platform. */
  readonly targetNode: string;
  /** A node of the same release that runs on this host, to write the blob. */
  readonly blobBuilderNode: string;
  readonly macos: boolean;
}

/**
 * A Node single-executable application: the blob (code cache and snapshot off, so its bytes are the
 * script's and its assets') written by the pinned Node release, injected with postject into a copy of the target's
 * node binary. Nothing from the host's environment reaches the blob.
 */
export async function buildExecutable(inputs: ExecutableInputs): Promise<Uint8Array> {
  const work = await mkdtemp(join(tmpdir(), "ironclaw-sea-"));
  try {
    await writeFile(join(work, "main.cjs"), inputs.script);
    await mkdir(join(work, "assets"));
    const assets: Record<string, string> = {};
    for (const [name, bytes] of [...inputs.assets].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (!/^[\w.-]+$/.test(name))
        throw new Error(`an executable's asset name must be a plain file name, not ${JSON.stringify(name)}`);
      await writeFile(join(work, "assets", name), bytes);
      assets[name] = join("assets", name);
    }
    const config = {
      assets,
      main: "main.cjs",
      output: "sea-prep.blob",
      disableExperimentalSEAWarning: true,
      useSnapshot: false,
      useCodeCache: false,
    };
    await writeFile(join(work, "sea-config.json"), JSON.stringify(config));
    await run(inputs.blobBuilderNode, ["--experimental-sea-config", "sea-config.json"], {
      cwd: work,
      env: { PATH: "/usr/bin:/bin" },
    });
    const blob = await readFile(join(work, "sea-prep.blob"));
    const executable = join(work, "executable");
    await copyFile(inputs.targetNode, executable);
    await chmod(executable, 0o755);
    await withoutLiefNoteWarnings(() =>
      inject(executable, "NODE_SEA_BLOB", blob, {
        sentinelFuse: SEA_FUSE,
        ...(inputs.macos ? { machoSegmentName: "NODE_SEA" } : {}),
      }),
    );
    return await readFile(executable);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
