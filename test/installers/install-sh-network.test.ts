import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { type Dirent, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loopbackTls } from "@ironclaw/sigstore-local";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { removeAll } from "../../packages/cli/test/release-fixture.js";
import { type AssetFault, OFF_HOST, ReleaseServer } from "../../packages/cli/test/release-server.js";
import { haveSystemTools } from "../support/system-tools.js";
import {
  BASE_TOOLS,
  runInstaller,
  Sandbox,
  SHELLS,
  type Shell,
  scratch,
  sha256Line,
  tarGz,
  toolDir,
} from "./harness.js";

// install.sh against GitHub's download path (every asset a 302 to a second origin, the object storage)
// and a hostile network, with each downloader it can use: redirects, caps while reading, idle timeouts.
// The release is small and self-made (a script as `ironclaw`, checksum only): what is proven is how
// the installer fetches, not the release itself.
const VERSION = "0.7.0";
const TAG = `v${VERSION}`;
const ARCHIVE = `ironclaw_${VERSION}_linux_amd64.tar.gz`;
const supported =
  process.platform === "linux" &&
  process.arch === "x64" &&
  haveSystemTools("install.sh against a hostile network", [
    "dash",
    "busybox",
    "curl",
    "wget",
    "sha256sum",
    "openssl",
  ]);

let work: string;
let server: ReleaseServer;
let release: string;
/** A release whose archive is 1 MiB (a script plus incompressible padding), for slow-network tests. */
let bigRelease: string;
const paths: Record<Downloader, string> = { curl: "", "GNU Wget": "", "BusyBox wget": "" };
type Downloader = "curl" | "GNU Wget" | "BusyBox wget";
const DOWNLOADERS: readonly Downloader[] = ["curl", "GNU Wget", "BusyBox wget"];

function makeRelease(padding: number): string {
  const dir = scratch("ironclaw-installer-release-");
  const pad = randomBytes(padding);
  const archive = tarGz([
    { name: "ironclaw", data: `#!/bin/sh\necho ${VERSION}\n` },
    { name: "padding", data: pad, mode: 0o644 },
  ]);
  writeFileSync(join(dir, ARCHIVE), archive);
  writeFileSync(join(dir, "SHA256SUMS"), sha256Line(ARCHIVE, archive));
  return dir;
}

beforeAll(async () => {
  if (!supported) return;
  work = scratch("ironclaw-installers-network-");
  server = await ReleaseServer.start();
  release = makeRelease(0);
  bigRelease = makeRelease(1024 * 1024);
  paths.curl = toolDir(work, [...BASE_TOOLS, "curl", "sha256sum"]);
  paths["GNU Wget"] = toolDir(work, [...BASE_TOOLS, "wget", "sha256sum"]);
  paths["BusyBox wget"] = toolDir(
    work,
    [],
    {},
    Object.fromEntries(
      [...BASE_TOOLS, "wget", "sha256sum", "nc", "timeout"].map((tool) => [tool, "/usr/bin/busybox"]),
    ),
  );
});

afterAll(async () => {
  if (!supported) return;
  await server.stop();
  removeAll(work, release, bigRelease);
});

afterEach(() => {
  if (!supported) return;
  server.faults = {};
  server.releases.clear();
  server.latest = "";
});

function serve(dir = release): void {
  server.releases.set(TAG, dir);
  server.latest = TAG;
}

interface Outcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly sandbox: Sandbox;
  readonly ms: number;
}

async function install(shell: Shell, path: string, env: Record<string, string> = {}): Promise<Outcome> {
  const sandbox = new Sandbox(work);
  const started = Date.now();
  const result = await runInstaller(shell, {
    env: sandbox.env(path, { IRONCLAW_BASE_URL: server.url, IRONCLAW_NO_MODIFY_PATH: "1", ...env }),
    cwd: sandbox.cwd,
  });
  return { ...result, sandbox, ms: Date.now() - started };
}

function expectInstalled(outcome: Outcome): void {
  expect(outcome.code, outcome.stdout + outcome.stderr).toBe(0);
  const run = spawnSync(join(outcome.sandbox.installDir, "ironclaw"), { encoding: "utf8", env: {} });
  expect(run.stdout).toBe(`${VERSION}\n`);
  expect(outcome.sandbox.leftInTmp()).toEqual([]);
}

function expectRefused(outcome: Outcome, message: string | RegExp): void {
  expect(outcome.code, outcome.stdout + outcome.stderr).toBe(3);
  if (typeof message === "string") expect(outcome.stderr).toContain(message);
  else expect(outcome.stderr).toMatch(message);
  expect(outcome.stdout).not.toContain("Installed ironclaw");
  expect(outcome.sandbox.installed()).toEqual([]);
  expect(outcome.sandbox.leftInTmp()).toEqual([]);
}

/** The shells and downloaders: BusyBox wget runs under BusyBox sh, the others under all three. */
const COMBINATIONS = SHELLS.flatMap((shell) =>
  DOWNLOADERS.filter((d) => d !== "BusyBox wget" || shell.name === "busybox sh").map(
    (downloader) => [`${shell.name} with ${downloader}`, shell, downloader] as const,
  ),
);

describe.runIf(supported).each(COMBINATIONS)("install.sh redirects under %s", (_name, shell, downloader) => {
  const archiveUrl = () => `${server.url}/download/${TAG}/${ARCHIVE}`;
  const fault = (f: AssetFault) => {
    server.faults = { assets: { [ARCHIVE]: f } };
  };

  it("installs through GitHub's 302 from /download to the object storage, and names where each download came from", async () => {
    serve();
    const outcome = await install(shell, (paths as Record<string, string>)[downloader] as string);
    expectInstalled(outcome);
    expect(outcome.stdout).toContain(`Downloading ${archiveUrl()}\n  from ${server.objectsUrl}/`);
    const fetched = server.downloadsOf(ARCHIVE).map((r) => r.origin);
    expect(fetched).toContain("release");
    expect(fetched).toContain("objects");
  });

  it("follows 5 redirects, and refuses a 6th", async () => {
    serve();
    fault({ kind: "redirect-chain", hops: 4 });
    expectInstalled(await install(shell, paths[downloader]));
    fault({ kind: "redirect-chain", hops: 5 });
    expectRefused(
      await install(shell, paths[downloader]),
      `could not download ${archiveUrl()}: more than 5 redirects`,
    );
  });

  it("refuses a redirect loop", async () => {
    serve();
    fault({ kind: "redirect-loop" });
    const before = server.served.length;
    const outcome = await install(shell, paths[downloader]);
    expectRefused(outcome, `could not download ${archiveUrl()}: more than 5 redirects`);
    // Six requests (the first and five redirects), or twice that where nc asks before wget fetches.
    const asked = server.served.slice(before).filter((r) => r.path.includes(ARCHIVE));
    expect(asked.length).toBeGreaterThanOrEqual(6);
    expect(asked.length).toBeLessThanOrEqual(12);
  });

  it.each([
    ["redirect-http-offhost", `http://${OFF_HOST}/`],
    ["redirect-https-offhost", `https://${OFF_HOST}/`],
  ] as const)("from an http:// base on loopback, refuses %s before dialling it", async (kind, target) => {
    serve();
    fault({ kind });
    const outcome = await install(shell, paths[downloader]);
    expectRefused(
      outcome,
      `the server redirected to '${target}download/${TAG}/${ARCHIVE}', which the installer refuses: an http:// release on this machine may only redirect to http:// on 127.0.0.1, localhost or [::1]`,
    );
  });

  it("refuses a /latest that never ends, having read at most 64 KiB of it", async () => {
    serve();
    server.faults = { latestEndless: true };
    const outcome = await install(shell, paths[downloader]);
    expectRefused(
      outcome,
      `could not look up the latest release at ${server.url}/latest: the server sent more than 65536 bytes`,
    );
  });

  it("reads a /latest answered with 64 KiB of headers, and goes on to the release it names", async () => {
    serve();
    server.faults = { latestHugeHeaders: true };
    const outcome = await install(shell, paths[downloader]);
    expectRefused(
      outcome,
      `the release v9.9.9 has no SHA256SUMS at ${server.url}/download/v9.9.9/SHA256SUMS`,
    );
  });

  it("refuses a SHA256SUMS that never ends, cut off at 16 MiB, in seconds", async () => {
    serve();
    server.faults = { assets: { SHA256SUMS: { kind: "endless" } } };
    const outcome = await install(shell, paths[downloader], { IRONCLAW_VERSION: VERSION });
    expectRefused(
      outcome,
      `could not download ${server.url}/download/${TAG}/SHA256SUMS: the server sent more than 16777216 bytes`,
    );
    expect(outcome.ms).toBeLessThan(30_000);
  });
});

describe.runIf(supported)("install.sh caps and timeouts while reading", () => {
  /** Runs the installer while measuring the most bytes its TMPDIR held at any poll (every 20 ms). */
  async function measured(shell: Shell, path: string, env: Record<string, string>) {
    let peak = 0;
    const sandbox = new Sandbox(work);
    const poll = setInterval(() => {
      peak = Math.max(peak, treeBytes(sandbox.tmp));
    }, 20);
    const started = Date.now();
    const result = await runInstaller(shell, {
      env: sandbox.env(path, { IRONCLAW_BASE_URL: server.url, IRONCLAW_NO_MODIFY_PATH: "1", ...env }),
      cwd: sandbox.cwd,
    });
    clearInterval(poll);
    return { ...result, sandbox, ms: Date.now() - started, peak };
  }

  it.each(DOWNLOADERS)(
    "%s: an archive that never ends is cut at 512 MiB, within 60 s and under 1 GiB of temporary space",
    async (downloader) => {
      serve();
      server.faults = { assets: { [ARCHIVE]: { kind: "endless" } } };
      const shell = downloader === "BusyBox wget" ? SHELLS[2] : SHELLS[0];
      const outcome = await measured(shell, paths[downloader], { IRONCLAW_VERSION: VERSION });
      expectRefused(
        outcome,
        `could not download ${server.url}/download/${TAG}/${ARCHIVE}: the server sent more than 536870912 bytes`,
      );
      expect(outcome.ms).toBeLessThan(60_000);
      expect(outcome.peak).toBeLessThanOrEqual(512 * 1024 * 1024 + 1 + 64 * 1024);
      console.log(`endless archive with ${downloader}: ${outcome.ms} ms, peak TMPDIR ${outcome.peak} bytes`);
    },
    90_000,
  );

  it.each(DOWNLOADERS)(
    "%s: an archive announcing a huge Content-Length and sending without end is refused",
    async (downloader) => {
      serve();
      server.faults = { assets: { [ARCHIVE]: { kind: "huge-length" } } };
      const shell = downloader === "BusyBox wget" ? SHELLS[2] : SHELLS[0];
      const outcome = await measured(shell, paths[downloader], { IRONCLAW_VERSION: VERSION });
      expectRefused(outcome, /the server (sent|announced) more than 536870912 bytes/);
      expect(outcome.ms).toBeLessThan(60_000);
      expect(outcome.peak).toBeLessThanOrEqual(512 * 1024 * 1024 + 1 + 64 * 1024);
    },
    90_000,
  );

  it.each(DOWNLOADERS)(
    "%s: a download that stalls fails after IRONCLAW_TIMEOUT seconds without a byte",
    async (downloader) => {
      serve();
      server.faults = { assets: { [ARCHIVE]: { kind: "stall", afterBytes: 100 } } };
      const shell = downloader === "BusyBox wget" ? SHELLS[2] : SHELLS[0];
      const outcome = await install(shell, paths[downloader], {
        IRONCLAW_VERSION: VERSION,
        IRONCLAW_TIMEOUT: "2",
      });
      expectRefused(outcome, `could not download ${server.url}/download/${TAG}/${ARCHIVE}`);
      expect(outcome.ms).toBeGreaterThanOrEqual(2_000);
      expect(outcome.ms).toBeLessThan(30_000);
    },
    60_000,
  );

  it("BusyBox wget: Ctrl-C during a stalled download ends the download in the background too", async () => {
    serve();
    server.faults = { assets: { [ARCHIVE]: { kind: "stall", afterBytes: 100 } } };
    const sandbox = new Sandbox(work);
    let interrupted = false;
    const result = await runInstaller(SHELLS[2], {
      env: sandbox.env(paths["BusyBox wget"], {
        IRONCLAW_BASE_URL: server.url,
        IRONCLAW_VERSION: VERSION,
        // nc's check of the stalled object waits this long for more, then wget starts and stalls.
        IRONCLAW_TIMEOUT: "4",
      }),
      cwd: sandbox.cwd,
      started: (child, output) => {
        const poll = setInterval(() => {
          // wget is running once the stalled object has been asked for twice (nc, then wget).
          const asked = server.downloadsOf(ARCHIVE).filter((r) => r.origin === "objects").length;
          if (
            !interrupted &&
            output().includes(`Downloading ${server.url}/download/${TAG}/${ARCHIVE}`) &&
            asked >= 2
          ) {
            interrupted = true;
            clearInterval(poll);
            setTimeout(() => process.kill(-(child.pid as number), "SIGINT"), 300);
          }
        }, 50);
        child.on("close", () => clearInterval(poll));
      },
    });
    expect(interrupted).toBe(true);
    expect(result.code, result.stdout + result.stderr).toBe(130);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const running = spawnSync("ps", ["-eo", "args"], { encoding: "utf8" })
      .stdout.split("\n")
      .filter((line) => line.includes("wget") && line.includes(`name=${ARCHIVE}`));
    expect(running).toEqual([]);
    expect(sandbox.leftInTmp()).toEqual([]);
    expect(sandbox.installed()).toEqual([]);
  }, 30_000);

  it.each(["curl", "GNU Wget", "BusyBox wget"] as const)(
    "%s: a slow, steady download longer than IRONCLAW_TIMEOUT succeeds (the timeout is idle, not total)",
    async (downloader) => {
      serve(bigRelease);
      server.faults = { assets: { [ARCHIVE]: { kind: "drip", bytesPerSecond: 256 * 1024 } } };
      const shell = downloader === "BusyBox wget" ? SHELLS[2] : SHELLS[0];
      const outcome = await install(shell, paths[downloader], {
        IRONCLAW_VERSION: VERSION,
        IRONCLAW_TIMEOUT: "2",
      });
      expectInstalled(outcome);
      // 1 MiB at 256 KiB/s: about 4 s, twice the timeout.
      expect(outcome.ms).toBeGreaterThan(3_000);
    },
    60_000,
  );
});

describe.runIf(supported)("install.sh over https through the redirecting server", () => {
  let secure: ReleaseServer;
  let caFile: string;

  beforeAll(async () => {
    const tls = await loopbackTls();
    caFile = join(work, "ca.pem");
    writeFileSync(caFile, tls.caCert);
    secure = await ReleaseServer.start({ tls: { key: tls.leafKey, cert: tls.leafCert } });
  });
  afterAll(async () => {
    await secure?.stop();
  });
  afterEach(() => {
    secure.faults = {};
  });

  async function installOver(downloader: "curl" | "GNU Wget", shell: Shell) {
    secure.releases.set(TAG, release);
    secure.latest = TAG;
    const sandbox = new Sandbox(work);
    // curl reads CURL_CA_BUNDLE; GNU Wget reads ca_certificate from ~/.wgetrc.
    writeFileSync(join(sandbox.home, ".wgetrc"), `ca_certificate = ${caFile}\n`);
    const started = Date.now();
    const result = await runInstaller(shell, {
      env: sandbox.env(paths[downloader], {
        IRONCLAW_BASE_URL: secure.url,
        IRONCLAW_NO_MODIFY_PATH: "1",
        CURL_CA_BUNDLE: caFile,
      }),
      cwd: sandbox.cwd,
    });
    return { ...result, sandbox, ms: Date.now() - started };
  }

  describe.each(SHELLS)("under $name", (shell) => {
    it.each(["curl", "GNU Wget"] as const)(
      "%s installs through the 302 to the https object storage",
      async (downloader) => {
        const outcome = await installOver(downloader, shell);
        expectInstalled(outcome);
        expect(outcome.stdout).toContain(`  from ${secure.objectsUrl}/`);
      },
    );

    it.each(["curl", "GNU Wget"] as const)(
      "%s refuses a redirect from https:// to http://, on loopback or off it, before fetching it",
      async (downloader) => {
        for (const kind of ["redirect-http-loopback", "redirect-http-offhost"] as const) {
          secure.faults = { assets: { [ARCHIVE]: { kind } } };
          const before = secure.served.length;
          const outcome = await installOver(downloader, shell);
          expectRefused(outcome, "the server redirected to a plain http:// URL, which the installer refuses");
          // The release origin was asked, and nothing after it: the http:// URL was never fetched.
          const after = secure.served.slice(before).filter((r) => r.path.includes(ARCHIVE));
          expect(after.map((r) => r.origin)).toEqual(["release"]);
        }
      },
    );
  });
});

function treeBytes(dir: string): number {
  let total = 0;
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    try {
      if (entry.isDirectory()) total += treeBytes(path);
      else total += statSync(path).size;
    } catch {
      /* removed while walking */
    }
  }
  return total;
}
