import { chmod, chown, readFile, rm, symlink } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startControlPlane } from "../../src/control-plane.js";
import { temporaryDirectories } from "../helpers.js";

/**
 * Finding 6 of the adversarial audit: a world-writable state directory was used as is, so another user
 * replaced api.json; token and key modes were checked only on the first start. Here "another user" is
 * nobody (uid 65534): the tests run as root and hand files to it.
 */
const NOBODY = 65534;
const newDir = temporaryDirectories();
const start = (stateDir: string) => startControlPlane({ stateDir, dev: true, listen: "127.0.0.1:0" });

const TAMPERINGS: readonly [string, (dir: string) => Promise<unknown>, (dir: string) => Promise<unknown>][] =
  [
    ["a world-writable state directory", (d) => chmod(d, 0o777), (d) => chmod(d, 0o700)],
    ["a group-writable state directory", (d) => chmod(d, 0o770), (d) => chmod(d, 0o700)],
    ["a state directory owned by another user", (d) => chown(d, NOBODY, NOBODY), (d) => chown(d, 0, 0)],
    [
      "a tokens directory others can list",
      (d) => chmod(join(d, "tokens"), 0o755),
      (d) => chmod(join(d, "tokens"), 0o700),
    ],
    [
      "tokens owned by another user",
      (d) => chown(join(d, "tokens"), NOBODY, NOBODY),
      (d) => chown(join(d, "tokens"), 0, 0),
    ],
    [
      "a token others can read",
      (d) => chmod(join(d, "tokens", "operator.token"), 0o644),
      (d) => chmod(join(d, "tokens", "operator.token"), 0o600),
    ],
    [
      "a token owned by another user",
      (d) => chown(join(d, "tokens", "viewer.token"), NOBODY, NOBODY),
      (d) => chown(join(d, "tokens", "viewer.token"), 0, 0),
    ],
    [
      "a symbolic link among the tokens",
      (d) => symlink("/dev/zero", join(d, "tokens", "agent-x.token")),
      (d) => rm(join(d, "tokens", "agent-x.token")),
    ],
    [
      "a host key owned by another user",
      (d) => chown(join(d, "host-key.pem"), NOBODY, NOBODY),
      (d) => chown(join(d, "host-key.pem"), 0, 0),
    ],
    [
      "a host key others can read",
      (d) => chmod(join(d, "host-key.pem"), 0o640),
      (d) => chmod(join(d, "host-key.pem"), 0o600),
    ],
  ];

describe("the state directory, at every start", () => {
  it.each(TAMPERINGS)("refuses %s, and starts again once it is fixed", async (_what, tamper, fix) => {
    const dir = await newDir();
    await (await start(dir)).close();
    await tamper(dir);
    const error = await start(dir).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: expect.stringMatching(/^IC_(STATE_INVALID|AUDIT_KEY)$/) });
    await fix(dir);
    await (await start(dir)).close();
  });
});

describe("two starts on an empty state directory (finding 8)", () => {
  it("leave exactly one running, whose operator token is accepted", async () => {
    for (let round = 0; round < 10; round++) {
      const dir = join(await newDir(), "state");
      const results = await Promise.allSettled([start(dir), start(dir)]);
      const started = results.filter((r) => r.status === "fulfilled");
      expect(started).toHaveLength(1);
      expect(results.find((r) => r.status === "rejected")).toMatchObject({
        reason: { code: "IC_AUDIT_LOCKED" },
      });
      const plane = (started[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof start>>>).value;
      try {
        const token = (await readFile(join(dir, "tokens", "operator.token"), "utf8")).trim();
        const response = await fetch(`${plane.url}/v1/changes`, {
          headers: { authorization: `Bearer ${token}` },
        });
        expect(response.status).toBe(200);
      } finally {
        await plane.close();
      }
    }
  });
});
