// The code that runs at the top of the released script, before any chunk: it is embedded with
// Function.prototype.toString, so each function here uses nothing but its arguments and the other
// functions of this file (no imports, no other names of this module), and takes Node's modules as arguments.
// None of it loads node:crypto or node:zlib on a warm run: each costs more than a command's own work.

type NodeRequire = (name: string) => unknown;
type Fs = typeof import("node:fs");
type Vm = typeof import("node:vm");
type Zlib = typeof import("node:zlib");
type Sea = typeof import("node:sea");

/** Chunks shorter than this compile faster than their code cache is read; longer ones are held compressed. */
export const CODE_CACHE_MIN_SOURCE = 32 * 1024;

/** What the script knows of a large chunk: its source's SHA-256 and length in UTF-8, fixed when it was built. */
export type ChunkIdentity = readonly [digest: string, length: number];

/** A cache file holds a chunk's source (so a warm run inflates nothing) and V8's code cache for it. */
export interface CachedChunk {
  readonly source: string;
  readonly data: Buffer;
}

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
  // directories in someone else's ~/.cache. Existing levels are checked without throwing: an
  // exception costs more than the system call.
  try {
    const home = fs.statSync(base, { throwIfNoEntry: false });
    if (home === undefined) {
      if (fs.statSync(base.slice(0, base.lastIndexOf("/")) || "/").uid !== uid) return undefined;
      fs.mkdirSync(base, { mode: 0o700 });
    } else if (home.uid !== uid) return undefined;
  } catch {
    return undefined;
  }
  let dir = base;
  for (const name of ["ironclaw", "code-cache"]) {
    dir = `${dir}/${name}`;
    try {
      let stat = fs.lstatSync(dir, { throwIfNoEntry: false });
      if (stat === undefined) {
        try {
          fs.mkdirSync(dir, { mode: 0o700 });
        } catch (error) {
          // Another ironclaw starting at the same moment made it first.
          if ((error as NodeJS.ErrnoException).code !== "EEXIST") return undefined;
        }
        stat = fs.lstatSync(dir);
      }
      if (!stat.isDirectory() || stat.uid !== uid || (stat.mode & 0o077) !== 0) return undefined;
    } catch {
      return undefined;
    }
  }
  return dir;
}

/** A short stable name for this executable (FNV-1a, 64 bits): caches are kept apart per executable, not secured by it. */
export function executableKey(path: string): string {
  let hash = 0xcbf29ce484222325n;
  for (let i = 0; i < path.length; i++)
    hash = BigInt.asUintN(64, (hash ^ BigInt(path.charCodeAt(i))) * 0x100000001b3n);
  return hash.toString(16).padStart(16, "0");
}

/**
 * The cached source and code cache of the chunk `identity` names, or undefined. The file (at most
 * 64 MiB) must be a regular file of this user, reached without following a symlink, and hold exactly
 * the header line `ironclaw-code-cache-2 <digest> <source length> <data length>`, the source, then V8's
 * data. It is not hashed: the directory admits only this user, whose processes can already run code
 * as this user, and writeCodeCache makes a file whole or not at all (fsync, then rename), so a
 * file with the right header and lengths is the one written. V8 checks its own version, flags and
 * the source's length.
 */
export function readCodeCache(
  dir: string,
  file: string,
  identity: ChunkIdentity,
  uid: number,
  fs: Fs,
): CachedChunk | undefined {
  let fd: number | undefined;
  try {
    // No symlink is followed, and a FIFO planted there cannot block the open.
    const { O_RDONLY, O_NOFOLLOW = 0, O_NONBLOCK = 0 } = fs.constants;
    fd = fs.openSync(`${dir}/${file}`, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    const stat = fs.fstatSync(fd);
    if (!stat.isFile() || stat.uid !== uid || stat.size > 1024 * 1024 * 64) return undefined;
    const bytes = Buffer.allocUnsafe(stat.size);
    let read = 0;
    while (read < bytes.length) {
      const n = fs.readSync(fd, bytes, read, bytes.length - read, read);
      if (n === 0) return undefined;
      read += n;
    }
    const [digest, length] = identity;
    const prefix = `ironclaw-code-cache-2 ${digest} ${length} `;
    const end = bytes.indexOf(10);
    if (end < 0 || end > prefix.length + 12 || bytes.toString("latin1", 0, prefix.length) !== prefix)
      return undefined;
    const dataLength = bytes.toString("latin1", prefix.length, end);
    if (!/^[1-9][0-9]*$/.test(dataLength) || end + 1 + length + Number(dataLength) !== bytes.length)
      return undefined;
    return {
      source: bytes.toString("utf8", end + 1, end + 1 + length),
      data: bytes.subarray(end + 1 + length),
    };
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Writes a chunk's cache file beside the others, whole or not at all: a new file, fsync, then rename. */
export function writeCodeCache(
  dir: string,
  file: string,
  identity: ChunkIdentity,
  chunk: CachedChunk,
  fs: Fs,
): void {
  const [digest, length] = identity;
  const source = Buffer.from(chunk.source, "utf8");
  if (source.length !== length) return;
  const temporary = `${dir}/.${file}.${process.pid}.${process.hrtime.bigint()}`;
  let fd: number | undefined;
  try {
    fd = fs.openSync(temporary, "wx", 0o600);
    const header = `ironclaw-code-cache-2 ${digest} ${length} ${chunk.data.length}\n`;
    fs.writeFileSync(fd, Buffer.concat([Buffer.from(header, "latin1"), source, chunk.data]));
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(temporary, `${dir}/${file}`);
  } catch {
    try {
      if (fd !== undefined) fs.closeSync(fd);
      fs.rmSync(temporary, { force: true });
    } catch {}
  }
}

/** Most bytes the cache directory keeps; past it, pruneCodeCache removes the least recently written. */
export const CODE_CACHE_MAX_BYTES = 64 * 1024 * 1024;

/**
 * Keeps the cache directory under `maxBytes`, removing the files written longest ago (each release
 * and each Node writes its own, and nothing else would ever remove them), and temporary files a
 * killed process left more than an hour ago. Only regular files directly in it, named as
 * writeCodeCache names them (`….v8`, `.….v8.<pid>.<time>`), are touched: should the path lead
 * elsewhere by the time the process exits, nobody's dotfiles or documents go.
 */
export function pruneCodeCache(dir: string, maxBytes: number, fs: Fs): void {
  const files: { path: string; size: number; written: number }[] = [];
  const now = Date.now();
  for (const name of fs.readdirSync(dir)) {
    const path = `${dir}/${name}`;
    const temporary = /^\..+\.v8\.[0-9]+\.[0-9]+$/.test(name);
    if (!temporary && (name.startsWith(".") || !name.endsWith(".v8"))) continue;
    try {
      const stat = fs.lstatSync(path);
      if (!stat.isFile()) continue;
      if (temporary) {
        if (now - stat.mtimeMs > 3600_000) fs.rmSync(path, { force: true });
      } else files.push({ path, size: stat.size, written: stat.mtimeMs });
    } catch {}
  }
  files.sort((a, b) => b.written - a.written);
  let kept = 0;
  for (const file of files) {
    kept += file.size;
    // One file that cannot go (replaced by a directory since) does not keep the others.
    try {
      if (kept > maxBytes) fs.rmSync(file.path, { force: true });
    } catch {}
  }
}

/**
 * A chunk's source. In a standalone executable the holder is the name of the asset that holds it.
 * Otherwise it is a function that holds it in a comment: a JSON string (`*\/` for `*` `/`), or, after
 * `z:`, its UTF-8 as raw DEFLATE in base64. V8 skips a comment without building a string of it, and
 * keeps the script's text for toString, so only the chunks a command uses are ever made into strings.
 */
export function chunkSource(holder: (() => void) | string, zlib: () => Zlib, sea: () => Sea): string {
  // A view of the executable's own bytes, decoded by Buffer: getAsset's TextDecoder costs more to load.
  if (typeof holder === "string")
    return Buffer.from(sea().getRawAsset(holder) as ArrayBuffer).toString("utf8");
  const text = holder.toString();
  const body = text.slice(text.indexOf("/*") + 2, text.lastIndexOf("*/"));
  if (body.startsWith("z:"))
    return zlib()
      .inflateRawSync(Buffer.from(body.slice(2), "base64"))
      .toString("utf8");
  return JSON.parse(body) as string;
}

/**
 * Loads the entry chunk. A chunk is compiled with vm the first time it is required; a name that is
 * not a chunk is a Node built-in (or esbuild, external), handed to Node's require. Chunks with an
 * identity (the large ones) use a code cache when codeCacheDirectory gives one: its source and V8's
 * data are taken from the cache file when it matches, and, where there was none or V8 refused it,
 * written when the process exits, so it holds the functions this command compiled too.
 */
export function loadChunks(
  chunks: Map<string, (() => void) | string>,
  identities: Map<string, ChunkIdentity>,
  entry: string,
  moduleMeta: { readonly url: string | undefined },
  nodeRequire: NodeRequire,
  codeCache: {
    directory: typeof codeCacheDirectory;
    key: typeof executableKey;
    read: typeof readCodeCache;
    write: typeof writeCodeCache;
    prune: typeof pruneCodeCache;
    maxBytes: number;
  },
): void {
  const vm = nodeRequire("node:vm") as Vm;
  const zlib = () => nodeRequire("node:zlib") as Zlib;
  const sea = () => nodeRequire("node:sea") as Sea;
  const loaded = new Map<string, { exports: unknown }>();
  let cache: { dir: string; uid: number; fs: Fs; runtime: string } | undefined | null = null;
  const pending: Array<() => void> = [];
  const openCache = () => {
    if (cache === null) {
      const fs = nodeRequire("node:fs") as Fs;
      const uid = process.getuid?.();
      const dir = codeCache.directory(process.env, uid, fs);
      // V8 refuses a cache made by another build of Node (node and a standalone ironclaw of the same
      // release differ), so each executable keeps its own rather than replacing the other's every run.
      cache =
        dir === undefined || uid === undefined
          ? undefined
          : {
              dir,
              uid,
              fs,
              runtime: `${process.version}.${process.arch}.${codeCache.key(process.execPath)}`,
            };
    }
    return cache;
  };
  const requireChunk = (name: string): unknown => {
    const done = loaded.get(name);
    if (done !== undefined) return done.exports;
    const holder = chunks.get(name);
    if (holder === undefined) return nodeRequire(name);
    const module = { exports: {} };
    loaded.set(name, module);
    const identity = identities.get(name);
    const store = identity === undefined ? undefined : openCache();
    const file = `${identity?.[0]}.${store?.runtime}.v8`;
    const cached =
      store === undefined || identity === undefined
        ? undefined
        : codeCache.read(store.dir, file, identity, store.uid, store.fs);
    const source = cached?.source ?? chunkSource(holder, zlib, sea);
    const script = new vm.Script(`(function(exports,require,module,__ironclawModule){${source}\n})`, {
      filename: `ironclaw/${name.slice(2)}`,
      ...(cached === undefined ? {} : { cachedData: cached.data }),
    });
    if (
      store !== undefined &&
      identity !== undefined &&
      (cached === undefined || script.cachedDataRejected)
    ) {
      if (pending.length === 0)
        process.once("exit", () => {
          // Best effort: a cache that cannot be written never changes what the command printed or its exit code.
          for (const write of pending) {
            try {
              write();
            } catch {}
          }
          try {
            if (cache) codeCache.prune(cache.dir, codeCache.maxBytes, cache.fs);
          } catch {}
        });
      pending.push(() =>
        codeCache.write(store.dir, file, identity, { source, data: script.createCachedData() }, store.fs),
      );
    }
    script.runInThisContext()(module.exports, requireChunk, module, moduleMeta);
    return module.exports;
  };
  requireChunk(entry);
}
