import { HashingWorkers } from "@ironclaw/verify/hashing-workers";
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
    private readonly workers: HashingWorkers,
  ) {
    this.#hashing = hashing;
  }

  /** Starts hashing if `argv` is a plain `verify` command line; else undefined. */
  static start(argv: readonly string[], cwd: string): HashingPrefetch | undefined {
    const request = verifyRequestFromArgv(argv);
    if (request === undefined) return undefined;
    const workers = HashingWorkers.start();
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
