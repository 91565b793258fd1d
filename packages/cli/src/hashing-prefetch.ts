import type { Worker } from "node:worker_threads";
import type { WorkersStartedAhead } from "@ironclaw/verify/checksums";
import type { ReleaseHashing } from "./commands/release-hashing.js";

/** What `ironclaw verify` will hash: the artifacts it names and its --dir. */
export interface VerifyRequest {
  readonly paths: readonly string[];
  readonly dir?: string;
}

const VALUE_OPTIONS = new Set(["--dir", "--repo", "--tag", "--signer-workflow", "--trusted-root"]);
const FLAG_OPTIONS = new Set(["--json", "--checksums-only"]);

/**
 * Reads `ironclaw verify …` off the raw command line, before the command-line parser is loaded. Only
 * the plainest forms are recognised; anything else (another command, an unknown option, help) gives
 * undefined and the command simply hashes later. A wrong guess costs work, never a wrong answer: the
 * command uses the prefetch only when its own parse asks for exactly the same files.
 */
export function verifyRequestFromArgv(argv: readonly string[]): VerifyRequest | undefined {
  if (argv[0] !== "verify") return undefined;
  const paths: string[] = [];
  let dir: string | undefined;
  for (let index = 1; index < argv.length; index++) {
    const arg = argv[index] as string;
    if (arg === "--") {
      paths.push(...argv.slice(index + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      paths.push(arg);
      continue;
    }
    if (FLAG_OPTIONS.has(arg)) continue;
    const equals = arg.indexOf("=");
    const name = equals === -1 ? arg : arg.slice(0, equals);
    if (!VALUE_OPTIONS.has(name)) return undefined;
    const value = equals === -1 ? argv[++index] : arg.slice(equals + 1);
    if (value === undefined) return undefined;
    if (name === "--dir") {
      if (dir !== undefined) return undefined;
      dir = value;
    }
  }
  return dir === undefined ? { paths } : { paths, dir };
}

/**
 * @ironclaw/verify's HASHING_WORKER_BOOTSTRAP, copied (a test holds the two together): importing it
 * would put the module into a chunk of its own that `checksums verify` and others would load too.
 */
export const WORKER_BOOTSTRAP =
  'const { parentPort } = require("node:worker_threads"); require("node:crypto"); ' +
  'parentPort.once("message", ({ source, data }) => require("node:vm").compileFunction(source, ["require", "parentPort", "data"])(require, parentPort, data));';

/**
 * Hashing workers started before SHA256SUMS is read: one per CPU besides this thread, four at most
 * (the archives of a release). A worker takes about 16 ms to start; meanwhile this thread reads
 * SHA256SUMS and loads the rest of the command. A worker that fails before it is taken is dropped
 * (its error with it); the hashing that takes the others sees what becomes of them.
 */
export class WorkersAhead implements WorkersStartedAhead {
  #idle: Worker[] = [];

  constructor(count = Math.min(4, process.getBuiltinModule("node:os").availableParallelism() - 1)) {
    const { Worker } = process.getBuiltinModule("node:worker_threads");
    for (let index = 0; index < count; index++) {
      const worker = new Worker(WORKER_BOOTSTRAP, { eval: true });
      worker.on("error", () => undefined);
      worker.once("exit", () => {
        this.#idle = this.#idle.filter((idle) => idle !== worker);
      });
      this.#idle.push(worker);
    }
  }

  get size(): number {
    return this.#idle.length;
  }

  take(count: number): Worker[] {
    const taken = this.#idle.splice(0, Math.max(0, count));
    this.close();
    return taken;
  }

  close(): void {
    for (const worker of this.#idle.splice(0)) worker.terminate().catch(() => undefined);
  }
}

/**
 * Hashing started from the raw command line, handed to the verify command if it asks for the same
 * files. The workers start first, before SHA256SUMS is read or anything more is loaded: they take
 * longer to start than all of that, and start on another CPU while this thread goes on.
 */
export class HashingPrefetch {
  #hashing: Promise<ReleaseHashing | undefined> | undefined;

  private constructor(
    readonly request: VerifyRequest,
    hashing: Promise<ReleaseHashing | undefined>,
    private readonly controller: AbortController,
    private readonly workers: WorkersAhead,
  ) {
    this.#hashing = hashing;
  }

  /** Starts hashing if `argv` is a plain `verify` command line; else undefined. */
  static start(argv: readonly string[], cwd: string): HashingPrefetch | undefined {
    const request = verifyRequestFromArgv(argv);
    if (request === undefined) return undefined;
    const workers = new WorkersAhead();
    const controller = new AbortController();
    // Loaded after the workers are started. When SHA256SUMS cannot be listed, the hashing is
    // undefined and the workers are stopped; the command meets the same problem and reports it in
    // its own words.
    const hashing = import("./commands/release-hashing.js")
      .then(({ startReleaseHashing }) =>
        startReleaseHashing(cwd, request.paths, request.dir, controller.signal, workers),
      )
      .catch(() => {
        workers.close();
        return undefined;
      });
    return new HashingPrefetch(request, hashing, controller, workers);
  }

  /** The hashing, once, if the command asks for exactly what was prefetched; otherwise it is stopped. */
  async take(request: VerifyRequest): Promise<ReleaseHashing | undefined> {
    const hashing = this.#hashing;
    this.#hashing = undefined;
    if (hashing !== undefined && sameRequest(request, this.request)) return hashing;
    this.cancel();
    return undefined;
  }

  /** Stops the workers if they are still running; called when the command is done with them. */
  cancel(): void {
    this.controller.abort(new Error("the prefetched hashing was not needed"));
    this.workers.close();
  }
}

function sameRequest(a: VerifyRequest, b: VerifyRequest): boolean {
  return (
    a.dir === b.dir &&
    a.paths.length === b.paths.length &&
    a.paths.every((path, index) => path === b.paths[index])
  );
}
