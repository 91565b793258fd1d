import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { constants } from "node:fs";
import { chmod, lstat, mkdir, open } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../durable-file.js";
import { GatewayError } from "../errors.js";
import type { JsonValue } from "../json.js";
import type { Principal, Role } from "../principal.js";
import { parseBearer } from "./bearer.js";
import { parseStrictJson } from "./strict-json.js";

export const PRINCIPALS_FILE = "principals.json";
export const TOKENS_DIR = "tokens";

const FORMAT_VERSION = 1;
const ROLES: ReadonlySet<string> = new Set<Role>(["operator", "viewer", "agent"]);
/** Agent names end up in file names (`tokens/agent-<name>.token`), hence the narrow alphabet. */
const AGENT_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
/** Ids of other principals may not start with `agent-`, so their token files cannot collide with an agent's. */
const PLAIN_ID = /^(?!agent-)[a-z][a-z0-9_-]{0,62}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const POSIX = process.platform !== "win32";

interface Entry {
  readonly principal: Principal;
  readonly hash: Buffer;
}

export interface AddedPrincipal {
  readonly principal: Principal;
  /** Where the plaintext token was written; the store itself keeps only its hash. */
  readonly tokenFile: string;
}

/** `ic_<role>_` and 32 random bytes in base64url (43 characters). */
export function generateToken(role: Role): string {
  return `ic_${role}_${randomBytes(32).toString("base64url")}`;
}

/**
 * Tokens are 256 random bits, so guessing one from its hash is as hard as guessing the token: a fast
 * hash is right here, and a password KDF (scrypt, argon2) would only slow down every request.
 */
export function hashToken(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}

/** `operator` → `operator.token`, `agent:builder` → `agent-builder.token`. */
export function tokenFileName(id: string): string {
  return `${id.replace(":", "-")}.token`;
}

/** The principals and the hashes of their bearer tokens, as kept in `<stateDir>/principals.json`. */
export class PrincipalStore {
  readonly stateDir: string;
  #entries: readonly Entry[];
  #writes: Promise<unknown> = Promise.resolve();

  constructor(stateDir: string, entries: readonly Entry[]) {
    this.stateDir = stateDir;
    this.#entries = entries;
  }

  get path(): string {
    return join(this.stateDir, PRINCIPALS_FILE);
  }

  get principals(): readonly Principal[] {
    return this.#entries.map((entry) => entry.principal);
  }

  /** Who an `Authorization: Bearer <token>` header belongs to; bound, so it can be passed around. */
  readonly authenticate = (header: string | undefined): Principal | undefined => {
    const credentials = parseBearer(header);
    if (credentials.kind !== "token") return undefined;
    const presented = hashToken(credentials.token);
    let found: Principal | undefined;
    for (const entry of this.#entries) {
      // Every hash is compared, with no early exit, so timing does not tell which one (if any) matched.
      const equal = timingSafeEqual(presented, entry.hash);
      if (equal && found === undefined) found = entry.principal;
    }
    return found;
  };

  /** Adds principal `agent:<name>`; one at a time, so two adds in this process cannot lose each other. */
  addAgent(agent: string): Promise<AddedPrincipal> {
    const added = this.#writes.then(() => this.#addAgent(agent));
    this.#writes = added.catch(() => undefined);
    return added;
  }

  async #addAgent(agent: string): Promise<AddedPrincipal> {
    if (!AGENT_NAME.test(agent)) {
      throw new GatewayError(
        "IC_PRINCIPAL_INVALID",
        `expected an agent name of 1–63 lower-case letters, digits, "-" or "_", starting with a letter or digit; found ${JSON.stringify(agent)}`,
      );
    }
    const id = `agent:${agent}`;
    const tokensDir = join(this.stateDir, TOKENS_DIR);
    const tokenFile = join(tokensDir, tokenFileName(id));
    // Start from the file, not memory, so an agent added by another process since our start is kept.
    const current = await readStore(this.path);
    if (current === undefined) {
      throw invalid(this.path, "is missing; start the gateway once to create it");
    }
    if (current.some((entry) => entry.principal.id === id)) {
      throw new GatewayError(
        "IC_PRINCIPAL_EXISTS",
        `principal ${id} already exists in ${this.path} (its token was written to ${tokenFile}); choose another agent name`,
      );
    }
    await ensureTokensDir(tokensDir);
    const token = generateToken("agent");
    // The token file first: a crash before the store is written leaves a token nobody accepts, never an
    // accepted token nobody has.
    await writeFileAtomic(tokenFile, `${token}\n`, 0o600);
    const principal: Principal = Object.freeze({ id, role: "agent", agent });
    const entries = [...current, { principal, hash: hashToken(token) }];
    await writeStore(this.path, entries);
    this.#entries = entries;
    return { principal, tokenFile };
  }
}

/**
 * Loads the store, creating it on first start with an `operator` and a `viewer` principal whose
 * plaintext tokens go to `<stateDir>/tokens/<id>.token` (for the CLI and the human). Later starts
 * load it unchanged and never issue new tokens.
 */
export async function ensurePrincipals(stateDir: string): Promise<PrincipalStore> {
  const path = join(stateDir, PRINCIPALS_FILE);
  const existing = await readStore(path);
  if (existing !== undefined) return new PrincipalStore(stateDir, existing);
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const tokensDir = join(stateDir, TOKENS_DIR);
  await ensureTokensDir(tokensDir);
  const entries: Entry[] = [];
  for (const role of ["operator", "viewer"] as const) {
    const token = generateToken(role);
    await writeFileAtomic(join(tokensDir, tokenFileName(role)), `${token}\n`, 0o600);
    entries.push({ principal: Object.freeze({ id: role, role }), hash: hashToken(token) });
  }
  // Written last: until it exists, a restart simply issues fresh tokens.
  await writeStore(path, entries);
  return new PrincipalStore(stateDir, entries);
}

/** Adds principal `agent:<name>` and writes its token to `tokens/agent-<name>.token`. */
export function addAgentPrincipal(store: PrincipalStore, agent: string): Promise<AddedPrincipal> {
  return store.addAgent(agent);
}

async function readStore(path: string): Promise<Entry[] | undefined> {
  const text = await readPrivateFile(path);
  return text === undefined ? undefined : parseStore(text, path);
}

/** Reads the file only if it is a regular file (not a link) that only its owner can read and write. */
async function readPrivateFile(path: string): Promise<string | undefined> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    // O_NONBLOCK so that a FIFO planted in its place cannot hang the start.
    handle = await open(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    if (code === "ELOOP") throw invalid(path, "is a symbolic link; replace it with the file itself");
    throw invalid(path, `cannot be read (${(cause as Error).message}); check its owner and permissions`);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw invalid(path, "is not a regular file; replace it with the file itself");
    const mode = info.mode & 0o777;
    if (POSIX && mode !== 0o600) {
      throw invalid(
        path,
        `has mode ${mode.toString(8).padStart(4, "0")}, expected 0600 so that no other user can read it; run \`chmod 600 ${path}\` and start again`,
      );
    }
    const bytes = await handle.readFile();
    try {
      return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch {
      throw invalid(path, "is not valid UTF-8; restore it from a backup");
    }
  } finally {
    await handle.close();
  }
}

async function ensureTokensDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { mode: 0o700 });
    await chmod(dir, 0o700);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== "EEXIST") {
      throw invalid(
        dir,
        `cannot be created (${(cause as Error).message}); check the state directory's permissions`,
      );
    }
  }
  const info = await lstat(dir);
  if (!info.isDirectory()) throw invalid(dir, "is not a directory; move it away and start again");
  const mode = info.mode & 0o777;
  if (POSIX && (mode & 0o077) !== 0) {
    throw invalid(
      dir,
      `has mode ${mode.toString(8).padStart(4, "0")}, expected 0700 because it holds tokens; run \`chmod 700 ${dir}\``,
    );
  }
}

async function writeStore(path: string, entries: readonly Entry[]): Promise<void> {
  const principals = entries.map(({ principal, hash }) => ({
    id: principal.id,
    role: principal.role,
    ...(principal.agent === undefined ? {} : { agent: principal.agent }),
    tokenSha256: hash.toString("hex"),
  }));
  await writeFileAtomic(path, `${JSON.stringify({ version: FORMAT_VERSION, principals }, null, 2)}\n`, 0o600);
}

function parseStore(text: string, path: string): Entry[] {
  const parsed = parseStrictJson(text);
  if (!parsed.ok) throw corrupt(path, `is not strict JSON: ${parsed.problem} at offset ${parsed.offset}`);
  const document = parsed.value;
  if (!isObject(document)) throw corrupt(path, "expected a JSON object at the top level");
  checkKeys(document, ["version", "principals"], ["version", "principals"], path, "the top level");
  if (document.version !== FORMAT_VERSION) {
    throw corrupt(path, `expected "version": ${FORMAT_VERSION}, found ${JSON.stringify(document.version)}`);
  }
  const list = document.principals;
  if (!Array.isArray(list)) throw corrupt(path, `expected "principals" to be an array`);
  const entries = list.map((item: JsonValue, index: number) =>
    parseEntry(item, `principals[${index}]`, path),
  );
  const ids = new Set<string>();
  const hashes = new Set<string>();
  for (const { principal, hash } of entries) {
    if (ids.has(principal.id)) throw corrupt(path, `lists principal ${JSON.stringify(principal.id)} twice`);
    if (hashes.has(hash.toString("hex"))) throw corrupt(path, `lists the same token hash twice`);
    ids.add(principal.id);
    hashes.add(hash.toString("hex"));
  }
  return entries;
}

function parseEntry(item: JsonValue, where: string, path: string): Entry {
  if (!isObject(item)) throw corrupt(path, `expected ${where} to be an object`);
  checkKeys(item, ["id", "role", "agent", "tokenSha256"], ["id", "role", "tokenSha256"], path, where);
  const { id, role, agent, tokenSha256 } = item;
  if (typeof role !== "string" || !ROLES.has(role)) {
    throw corrupt(
      path,
      `expected ${where}.role to be operator, viewer or agent, found ${JSON.stringify(role)}`,
    );
  }
  if (typeof tokenSha256 !== "string" || !SHA256_HEX.test(tokenSha256)) {
    throw corrupt(path, `expected ${where}.tokenSha256 to be 64 lower-case hex digits`);
  }
  const hash = Buffer.from(tokenSha256, "hex");
  if (role === "agent") {
    if (
      typeof agent !== "string" ||
      !AGENT_NAME.test(agent) ||
      typeof id !== "string" ||
      id !== `agent:${agent}`
    ) {
      throw corrupt(
        path,
        `expected ${where} (role agent) to have an agent name and the id "agent:<name>", found id ${JSON.stringify(id)} and agent ${JSON.stringify(agent ?? null)}`,
      );
    }
    return { principal: Object.freeze({ id, role: "agent" as const, agent }), hash };
  }
  if (agent !== undefined) throw corrupt(path, `expected no "agent" in ${where}, whose role is ${role}`);
  if (typeof id !== "string" || !PLAIN_ID.test(id)) {
    throw corrupt(
      path,
      `expected ${where}.id to be a lower-case name like "operator", found ${JSON.stringify(id)}`,
    );
  }
  return { principal: Object.freeze({ id, role: role as Role }), hash };
}

function checkKeys(
  object: { readonly [key: string]: JsonValue },
  allowed: readonly string[],
  required: readonly string[],
  path: string,
  where: string,
): void {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key))
      throw corrupt(path, `has an unknown field ${JSON.stringify(key)} in ${where}`);
  }
  for (const key of required) {
    if (!Object.hasOwn(object, key)) throw corrupt(path, `is missing the field "${key}" in ${where}`);
  }
}

function isObject(value: JsonValue | undefined): value is { readonly [key: string]: JsonValue } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function invalid(path: string, problem: string): GatewayError {
  return new GatewayError("IC_STATE_INVALID", `${path} ${problem}`);
}

function corrupt(path: string, problem: string): GatewayError {
  return invalid(
    path,
    `${problem}; restore it from a backup, or delete it and ${TOKENS_DIR}/ so that the next start issues new tokens (agents must then be added again)`,
  );
}
