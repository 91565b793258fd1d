import { randomBytes } from "node:crypto";
import { chmod, link, lstat, rm, unlink } from "node:fs/promises";
import type { Server } from "node:net";
import { dirname, join, resolve } from "node:path";
import { EgressError } from "./errors.js";

export interface SocketFile {
  readonly path: string;
  /** Removes the socket file, if it is still the one this broker made. */
  remove(): Promise<void>;
}

/**
 * Listens on a unix socket that appears at `socketPath` only once it has its mode: it is bound under a
 * random name, chmod-ed, then hard-linked into place, which fails rather than replace an existing file.
 */
export async function listenOnSocketFile(
  server: Server,
  socketPath: string,
  mode: number,
): Promise<SocketFile> {
  const path = resolve(socketPath);
  const temporary = join(dirname(path), `.egress-${randomBytes(6).toString("hex")}`);
  try {
    await listen(server, temporary);
  } catch (cause) {
    throw listenFailed(path, cause);
  }
  try {
    await chmod(temporary, mode);
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

function listen(server: Server, path: string): Promise<void> {
  return new Promise((done, fail) => {
    server.once("error", fail);
    server.listen({ path, exclusive: true }, () => {
      server.off("error", fail);
      done();
    });
  });
}

function listenFailed(path: string, cause: unknown): EgressError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  const hint =
    code === "EEXIST"
      ? "a file is already there; remove it if it is a stale socket"
      : "check that the directory exists, is writable, and the path is under 100 bytes";
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new EgressError("IC_EGRESS_LISTEN_FAILED", `cannot listen on ${path}: ${detail}; ${hint}`, {
    cause,
  });
}
