import { randomBytes } from "node:crypto";
import { chmod, link, lstat, rm, unlink } from "node:fs/promises";
import type { Server } from "node:net";
import { dirname, join, resolve } from "node:path";
import { ModelError } from "./errors.js";

export interface SocketFile {
  readonly path: string;
  /** Removes the socket file, if it is still the one this proxy made. */
  remove(): Promise<void>;
}

/**
 * Listens on a unix socket that appears at `socketPath` only once it has mode 0600: bound under a
 * random name, chmod-ed, then hard-linked into place, which fails rather than replace a file. The same
 * steps as the egress broker's; a copy, as that one is not part of its package's API.
 */
export async function listenOnSocketFile(server: Server, socketPath: string): Promise<SocketFile> {
  const path = resolve(socketPath);
  const temporary = join(dirname(path), `.model-${randomBytes(6).toString("hex")}`);
  try {
    await new Promise<void>((done, fail) => {
      server.once("error", fail);
      server.listen({ path: temporary, exclusive: true }, () => {
        server.off("error", fail);
        done();
      });
    });
  } catch (cause) {
    throw listenFailed(path, cause);
  }
  try {
    await chmod(temporary, 0o600);
    await link(temporary, path);
  } catch (cause) {
    await new Promise<void>((done) => server.close(() => done()));
    throw listenFailed(path, cause);
  } finally {
    await rm(temporary, { force: true });
  }
  const { dev, ino } = await lstat(path);
  return {
    path,
    remove: async () => {
      const now = await lstat(path).catch(() => undefined);
      if (now?.dev === dev && now.ino === ino) await unlink(path).catch(() => {});
    },
  };
}

function listenFailed(path: string, cause: unknown): ModelError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  const hint =
    code === "EEXIST"
      ? "a file is already there; remove it if it is a stale socket"
      : "check that the directory exists, is writable, and the path is under 100 bytes";
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new ModelError("IC_MODEL_LISTEN_FAILED", `cannot listen on ${path}: ${detail}; ${hint}`, { cause });
}
