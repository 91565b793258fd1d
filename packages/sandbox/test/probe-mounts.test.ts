import { closeSync, openSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProbeConfig } from "../src/containment/invariants.js";
import { controlMount, mountOnlyApproved, mountReadOnly } from "../src/containment/probe-mounts.js";

// The probe's mount checks run here, on the host, where everything they look for is in reach: each
// must say "allowed" when what it guards against is there (the sandboxed runs show the "denied").
let dir = "";
let config: ProbeConfig;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ironclaw-probe-mounts-"));
  await mkdir(join(dir, "root", "approved"), { recursive: true });
  await mkdir(join(dir, "root", "unapproved"));
  await writeFile(join(dir, "root", "approved", "readme.txt"), "host content\n");
  config = {
    mount: {
      target: join(dir, "root", "approved"),
      file: "readme.txt",
      content: "host content\n",
      hostMountsRoot: join(dir, "root"),
      unapproved: "unapproved",
    },
  } as unknown as ProbeConfig;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the probe's mount checks say so when they can", () => {
  it("mount-read-only: a writable directory is 'allowed', and left as it was", async () => {
    const seen = mountReadOnly(config);
    expect(seen.observed).toBe("allowed");
    expect(seen.detail).toMatch(/create: done; append: done; mkdir: done; rename: done; unlink: done/);
    expect(await readdir(join(dir, "root", "approved"))).toEqual(["readme.txt"]);
    expect(await readFile(join(dir, "root", "approved", "readme.txt"), "utf8")).toBe("host content\n");
  });

  it("mount-only-approved: a visible mounts root, or a descriptor into it, is 'allowed'", () => {
    expect(mountOnlyApproved(config)).toMatchObject({ observed: "allowed" });
    const hidden = {
      ...config,
      mount: { ...config.mount, hostMountsRoot: join(dir, "nowhere") },
    } as ProbeConfig;
    const fd = openSync(join(dir, "root", "approved"), "r");
    try {
      const seen = mountOnlyApproved({
        ...hidden,
        mount: { ...hidden.mount, hostMountsRoot: join(dir, "root", "approved") },
      } as ProbeConfig);
      expect(seen.detail).toMatch(/descriptors to the mounts root: .*approved/);
      expect(seen.observed).toBe("allowed");
    } finally {
      closeSync(fd);
    }
  });

  it("control-mount: different content is 'denied'", () => {
    expect(controlMount(config)).toMatchObject({ observed: "allowed" });
    expect(
      controlMount({ ...config, mount: { ...config.mount, content: "else" } } as ProbeConfig),
    ).toMatchObject({
      observed: "denied",
    });
  });

  it("refuses to judge without a mount in its config", () => {
    expect(() => mountReadOnly({} as ProbeConfig)).toThrow(/no mount/);
  });
});
