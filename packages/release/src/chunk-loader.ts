// The code that runs at the top of the released script, before any chunk: it is embedded with
// Function.prototype.toString, so each function here uses nothing but its arguments and the other
// functions of this file (no imports, no other names of this module), and takes Node's modules as arguments.

type NodeRequire = (name: string) => unknown;
type Fs = typeof import("node:fs");
type Vm = typeof import("node:vm");
type Crypto = typeof import("node:crypto");

/** Chunks shorter than this compile faster than their code cache is read and checked. */
export const CODE_CACHE_MIN_SOURCE = 32 * 1024;

/**
 * The directory for V8 code caches, `$XDG_CACHE_HOME/ironclaw/code-cache` (or `~/.cache/…`), or
 * undefined when none may be used. Bytecode from it runs as this program, so it must be as private as
 * the program: the cache home is this user's, every level below it a real directory (no symlink),
 * owned by this user, with no access for group or others, and it is created so. Off with IRONCLAW_CODE_CACHE=off, under CI (a
 * restored CI cache may come from a less trusted run), and where there are no user ids (Windows).
 */
export function codeCacheDirectory(
  env: Record<string, string | undefined>,
  uid: number | undefined,
  fs: Fs,
): string | undefined {
  if (uid === undefined || env.IRONCLAW_CODE_CACHE === "off" || (env.CI ?? "") !== "") return undefined;
  const base =
    env.XDG_CACHE_HOME?.startsWith("/") === true
      ? env.XDG_CACHE_HOME
      : env.HOME?.startsWith("/") === true
        ? `${env.HOME}/.cache`
        : undefined;
  if (base === undefined) return undefined;
  // Nothing is made in a home that is not this user's: `sudo` keeping HOME would leave root's
  // directories in someone else's ~/.cache.
  try {
    if (fs.existsSync(base)) {
      if (fs.statSync(base).uid !== uid) return undefined;
    } else {
      if (fs.statSync(base.slice(0, base.lastIndexOf("/")) || "/").uid !== uid) return undefined;
      fs.mkdirSync(base, { mode: 0o700 });
    }
  } catch {
    return undefined;
  }
  let dir = base;
  for (const name of ["ironclaw", "code-cache"]) {
    dir = `${dir}/${name}`;
    try {
      fs.mkdirSync(dir, { mode: 0o700 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") return undefined;
    }
    try {
      const stat = fs.lstatSync(dir);
      if (!stat.isDirectory() || stat.uid !== uid || (stat.mode & 0o077) !== 0) return undefined;
    } catch {
      return undefined;
    }
  }
  return dir;
}

/**
 * The code cache of the chunk whose source has SHA-256 `digest`, or undefined. The file (at most
 * 16 MiB) must be a regular file of this user, start with the line `ironclaw-code-cache-1`, then this
 * digest, then the payload's SHA-256, and the payload must have
 * the SHA-256 it carries: V8 itself checks only its version, flags and the source's length, not that
 * the bytes are intact, so a torn or altered file would otherwise run as code.
 */
export function readCodeCache(
  dir: string,
  file: string,
  digest: string,
  uid: number,
  fs: Fs,
  crypto: Crypto,
): Buffer | undefined {
  let fd: number | undefined;
  try {
    // No symlink is followed, and a FIFO planted there cannot block the open.
    const { O_RDONLY, O_NOFOLLOW = 0, O_NONBLOCK = 0 } = fs.constants;
    fd = fs.openSync(`${dir}/${file}`, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    const stat = fs.fstatSync(fd);
    if (!stat.isFile() || stat.uid !== uid || stat.size > 1024 * 1024 * 16) return undefined;
    const bytes = Buffer.alloc(stat.size);
    let read = 0;
    while (read < bytes.length) {
      const n = fs.readSync(fd, bytes, read, bytes.length - read, read);
      if (n === 0) return undefined;
      read += n;
    }
    const header = `ironclaw-code-cache-1\n${digest}\n`;
    const start = header.length + 65;
    if (bytes.length <= start || bytes.toString("latin1", 0, header.length) !== header) return undefined;
    const payload = bytes.subarray(start);
    const sum = crypto.createHash("sha256").update(payload).digest("hex");
    return bytes.toString("latin1", header.length, start) === `${sum}\n` ? payload : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Writes a chunk's code cache beside the others, whole or not at all (a unique file, then rename). */
export function writeCodeCache(
  dir: string,
  file: string,
  digest: string,
  payload: Buffer,
  fs: Fs,
  crypto: Crypto,
): void {
  const sum = crypto.createHash("sha256").update(payload).digest("hex");
  const temporary = `${dir}/.${file}.${process.pid}.${crypto.randomBytes(6).toString("hex")}`;
  try {
    fs.writeFileSync(
      temporary,
      Buffer.concat([Buffer.from(`ironclaw-code-cache-1\n${digest}\n${sum}\n`, "latin1"), payload]),
      { mode: 0o600, flag: "wx" },
    );
    fs.renameSync(temporary, `${dir}/${file}`);
  } catch {
    try {
      fs.rmSync(temporary, { force: true });
    } catch {}
  }
}

/**
 * A chunk's source, from the function that holds it as a JSON string in a comment (`*\/` for `*` `/`).
 * V8 skips a comment without building a string of it, and keeps the script's text for toString, so
 * only the chunks a command uses are ever made into strings.
 */
export function chunkSource(holder: () => void): string {
  const text = holder.toString();
  return JSON.parse(text.slice(text.indexOf("/*") + 2, text.lastIndexOf("*/"))) as string;
}

/**
 * Loads the entry chunk. A chunk is compiled with vm the first time it is required; a name that is
 * not a chunk is a Node built-in (or esbuild, external), handed to Node's require. Chunks with a
 * digest (the large ones) use a code cache when codeCacheDirectory gives one: read and checked before
 * compiling, and, where there was none or V8 refused it, written when the process exits, so it holds
 * the functions this command compiled too.
 */
export function loadChunks(
  chunks: Map<string, () => void>,
  digests: Map<string, string>,
  entry: string,
  moduleUrl: string | undefined,
  nodeRequire: NodeRequire,
  codeCache: {
    directory: typeof codeCacheDirectory;
    read: typeof readCodeCache;
    write: typeof writeCodeCache;
  },
): void {
  const vm = nodeRequire("node:vm") as Vm;
  const loaded = new Map<string, { exports: unknown }>();
  let cache: { dir: string; uid: number; fs: Fs; crypto: Crypto; runtime: string } | undefined | null = null;
  const pending: Array<() => void> = [];
  const openCache = () => {
    if (cache === null) {
      const fs = nodeRequire("node:fs") as Fs;
      const uid = process.getuid?.();
      const dir = codeCache.directory(process.env, uid, fs);
      if (dir === undefined || uid === undefined) cache = undefined;
      else {
        const crypto = nodeRequire("node:crypto") as Crypto;
        // V8 refuses a cache made by another build of Node (node and a standalone ironclaw of the same
        // release differ), so each executable keeps its own rather than replacing the other's every run.
        const executable = crypto.createHash("sha256").update(process.execPath).digest("hex").slice(0, 16);
        cache = { dir, uid, fs, crypto, runtime: `${process.version}.${process.arch}.${executable}` };
      }
    }
    return cache;
  };
  const requireChunk = (name: string): unknown => {
    const done = loaded.get(name);
    if (done !== undefined) return done.exports;
    const holder = chunks.get(name);
    if (holder === undefined) return nodeRequire(name);
    const source = chunkSource(holder);
    const module = { exports: {} };
    loaded.set(name, module);
    const digest = digests.get(name);
    const store = digest === undefined ? undefined : openCache();
    const file = `${digest}.${store?.runtime}.v8`;
    const cachedData =
      store === undefined || digest === undefined
        ? undefined
        : codeCache.read(store.dir, file, digest, store.uid, store.fs, store.crypto);
    const script = new vm.Script(`(function(exports,require,module,__ironclawModuleUrl){${source}\n})`, {
      filename: `ironclaw/${name.slice(2)}`,
      ...(cachedData === undefined ? {} : { cachedData }),
    });
    if (
      store !== undefined &&
      digest !== undefined &&
      (cachedData === undefined || script.cachedDataRejected)
    ) {
      if (pending.length === 0)
        process.once("exit", () => {
          // Best effort: a cache that cannot be written never changes what the command printed or its exit code.
          for (const write of pending) {
            try {
              write();
            } catch {}
          }
        });
      pending.push(() =>
        codeCache.write(store.dir, file, digest, script.createCachedData(), store.fs, store.crypto),
      );
    }
    script.runInThisContext()(module.exports, requireChunk, module, moduleUrl);
    return module.exports;
  };
  requireChunk(entry);
}
