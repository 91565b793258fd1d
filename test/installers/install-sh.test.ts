import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { githubWorkflowIdentity, LocalSigstore } from "@ironclaw/sigstore-local";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  flipByte,
  REPOSITORY,
  removeAll,
  resign,
  signedRelease,
} from "../../packages/cli/test/release-fixture.js";
import { ReleaseServer } from "../../packages/cli/test/release-server.js";
import { haveSystemTools } from "../support/system-tools.js";
import {
  BASE_TOOLS,
  fakeUname,
  ROOT,
  runInstaller,
  Sandbox,
  SHELLS,
  type Shell,
  scratch,
  sha256Line,
  tarGz,
  toolDir,
  variantOf,
} from "./harness.js";

// The installers against a real release: a linux_amd64 build signed by a local Sigstore, served over
// HTTP on loopback by the release server the CLI's upgrade tests use, with its faults.
const VERSION = "0.6.0";
const TAG = `v${VERSION}`;
const ARCHIVE = `ironclaw_${VERSION}_linux_amd64.tar.gz`;

// The release fixture builds the linux_amd64 executable, which only runs here.
const supported =
  process.platform === "linux" &&
  process.arch === "x64" &&
  haveSystemTools("install.sh against a real release", [
    "dash",
    "busybox",
    "curl",
    "wget",
    "sha256sum",
    "shasum",
    "openssl",
  ]);
const runIf = describe.runIf(supported);
let sigstore: LocalSigstore;
let server: ReleaseServer;
let release: string;
let work: string;
/** The standalone executable of the release, extracted once: an "earlier install" for the verifier tests. */
let earlier: string;
/** curl and sha256sum with the base tools: the PATH most tests run with. */
let standardPath: string;

beforeAll(async () => {
  if (!supported) return;
  work = scratch("ironclaw-installers-");
  sigstore = await LocalSigstore.start();
  server = await ReleaseServer.start();
  release = await signedRelease(sigstore, VERSION, ["linux_amd64"]);
  const extracted = join(work, "earlier");
  mkdirSync(extracted);
  expect(spawnSync("tar", ["-xzf", join(release, ARCHIVE), "-C", extracted, "ironclaw"]).status).toBe(0);
  earlier = join(extracted, "ironclaw");
  standardPath = toolDir(work, [...BASE_TOOLS, "curl", "sha256sum"]);
}, 240_000);

afterAll(async () => {
  if (!supported) return;
  await server.stop();
  await sigstore.stop();
  removeAll(release, work);
});

afterEach(() => {
  if (!supported) return;
  server.faults = {};
  server.releases.clear();
  server.latest = "";
});

/** Serves `dir` as release TAG (the latest) for the next run. */
function serve(dir: string): void {
  server.releases.set(TAG, dir);
  server.latest = TAG;
}

interface Outcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly sandbox: Sandbox;
}

async function install(
  shell: Shell,
  options: { path?: string; env?: Record<string, string>; piped?: boolean; sandbox?: Sandbox } = {},
): Promise<Outcome> {
  const sandbox = options.sandbox ?? new Sandbox(work);
  const env = sandbox.env(options.path ?? standardPath, {
    IRONCLAW_BASE_URL: server.url,
    ...options.env,
  });
  const result = await runInstaller(shell, { env, cwd: sandbox.cwd, piped: options.piped ?? false });
  return { ...result, sandbox };
}

/** A failure: non-zero with this message, no `Checksum OK` unless told, nothing installed, nothing left in TMPDIR. */
function expectRefused(outcome: Outcome, code: number, message: string | RegExp, checksumOk = false): void {
  expect(outcome.code, outcome.stdout + outcome.stderr).toBe(code);
  if (typeof message === "string") expect(outcome.stderr).toContain(message);
  else expect(outcome.stderr).toMatch(message);
  expect(outcome.stdout.includes("Checksum OK")).toBe(checksumOk);
  expect(outcome.stdout).not.toContain("Installed ironclaw");
  expect(outcome.sandbox.installed()).toEqual([]);
  expect(outcome.sandbox.leftInTmp()).toEqual([]);
  expect(existsSync(join(outcome.sandbox.home, ".profile"))).toBe(false);
}

function expectInstalled(outcome: Outcome, version = VERSION): string {
  expect(outcome.code, outcome.stdout + outcome.stderr).toBe(0);
  expect(outcome.sandbox.leftInTmp()).toEqual([]);
  const executable = join(outcome.sandbox.installDir, "ironclaw");
  const run = spawnSync(executable, ["--version"], { encoding: "utf8", env: {} });
  expect(run.stdout).toBe(`${version}\n`);
  expect(outcome.sandbox.installed().filter((name) => name.includes(".ironclaw.install"))).toEqual([]);
  return executable;
}

function archiveDigestLine(): string {
  const line = readFileSync(join(release, "SHA256SUMS"), "utf8")
    .split("\n")
    .find((l) => l.endsWith(`  ${ARCHIVE}`));
  if (line === undefined) throw new Error(`the fixture's SHA256SUMS has no line for ${ARCHIVE}`);
  return line;
}

runIf.each(SHELLS)("install.sh under $name", (shell) => {
  it("installs the latest release piped to the shell: Checksum OK, then the executable prints its version", async () => {
    serve(release);
    const outcome = await install(shell, { piped: true });
    const executable = expectInstalled(outcome);
    const lines = outcome.stdout.split("\n");
    const checksumOk = lines.findIndex((line) =>
      line.startsWith(`Checksum OK: ${ARCHIVE} matches SHA256SUMS`),
    );
    expect(checksumOk).toBeGreaterThan(0);
    expect(lines.findIndex((line) => line.startsWith("Installed ironclaw"))).toBeGreaterThan(checksumOk);
    expect(outcome.stdout).toContain(`Looking up the latest release at ${server.url}/latest`);
    // Nothing to verify the signature with on this PATH, and it says so, with the way to do it by hand.
    expect(outcome.stdout).toContain("Signature NOT checked");
    expect(outcome.stdout).toContain("cosign verify-blob --bundle SHA256SUMS.sigstore.json");
    expect(statSync(executable).mode & 0o777).toBe(0o755);
    expect(readFileSync(join(outcome.sandbox.home, ".profile"), "utf8")).toBe(
      `\n# Added by the IronClaw installer\nexport PATH="${outcome.sandbox.installDir}:$PATH"\n`,
    );
    outcome.sandbox.remove();
  });

  it("refuses a tampered archive: checksum mismatch", async () => {
    const dir = variantOf(release, work, { [ARCHIVE]: readFileSync(join(release, ARCHIVE)) });
    flipByte(join(dir, ARCHIVE));
    serve(dir);
    expectRefused(
      await install(shell, { env: { IRONCLAW_VERSION: VERSION } }),
      1,
      `checksum mismatch for ${ARCHIVE}: SHA256SUMS says`,
    );
  });

  it("runs nothing from an archive that fails the checksum", async () => {
    // An archive whose ironclaw would leave a mark if anything ran it.
    const marker = join(work, `ran-${shell.name.replace(" ", "-")}`);
    const hostile = tarGz([{ name: "ironclaw", data: `#!/bin/sh\ntouch ${marker}\necho ${VERSION}\n` }]);
    serve(variantOf(release, work, { [ARCHIVE]: hostile }));
    expectRefused(await install(shell, { env: { IRONCLAW_VERSION: VERSION } }), 1, "checksum mismatch");
    expect(existsSync(marker)).toBe(false);
  });

  it("refuses a release without SHA256SUMS", async () => {
    serve(variantOf(release, work, { SHA256SUMS: null }));
    expectRefused(
      await install(shell, { env: { IRONCLAW_VERSION: VERSION } }),
      3,
      `the release ${TAG} has no SHA256SUMS at ${server.url}/download/${TAG}/SHA256SUMS (HTTP 404)`,
    );
  });

  it("refuses an archive that SHA256SUMS does not list", async () => {
    const others = readFileSync(join(release, "SHA256SUMS"), "utf8")
      .split("\n")
      .filter((line) => line !== "" && !line.endsWith(ARCHIVE))
      .join("\n");
    serve(variantOf(release, work, { SHA256SUMS: `${others}\n` }));
    expectRefused(
      await install(shell, { env: { IRONCLAW_VERSION: VERSION } }),
      1,
      `SHA256SUMS of ${TAG} has no line for ${ARCHIVE} (a name must match exactly)`,
    );
  });

  it("takes no line for a longer or shorter name: <archive>.bak, ./<archive>, dir/<archive> (the substring trap)", async () => {
    // The right digest, under names that contain the archive's name but are not it.
    const digest = archiveDigestLine().slice(0, 64);
    const sums = [`${ARCHIVE}.bak`, `./${ARCHIVE}`, `dir/${ARCHIVE}`, ` ${ARCHIVE}`, ARCHIVE.slice(1)]
      .map((name) => `${digest}  ${name}\n`)
      .join("");
    serve(variantOf(release, work, { SHA256SUMS: sums }));
    expectRefused(
      await install(shell, { env: { IRONCLAW_VERSION: VERSION } }),
      1,
      `SHA256SUMS of ${TAG} has no line for ${ARCHIVE}`,
    );
  });

  it("refuses a SHA256SUMS that lists the archive twice", async () => {
    const line = archiveDigestLine();
    serve(variantOf(release, work, { SHA256SUMS: `${line}\n${"0".repeat(64)}  ${ARCHIVE}\n` }));
    expectRefused(
      await install(shell, { env: { IRONCLAW_VERSION: VERSION } }),
      1,
      `SHA256SUMS of ${TAG} lists ${ARCHIVE} more than once`,
    );
  });

  it("fails on HTTP 404 for the archive", async () => {
    serve(release);
    server.faults = { status: { [ARCHIVE]: 404 } };
    expectRefused(
      await install(shell, { env: { IRONCLAW_VERSION: VERSION } }),
      3,
      `the release ${TAG} has no ${ARCHIVE} at ${server.url}/download/${TAG}/${ARCHIVE} (HTTP 404)`,
    );
  });

  it("fails on HTTP 500 for the archive, after its retries", async () => {
    serve(release);
    server.faults = { status: { [ARCHIVE]: 500 } };
    const started = Date.now();
    const outcome = await install(shell, { env: { IRONCLAW_VERSION: VERSION } });
    expectRefused(outcome, 3, `could not download ${server.url}/download/${TAG}/${ARCHIVE}: HTTP 500`);
    // Two retries a second apart (http_hop): a 500 may pass, a 404 is not retried.
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
  });

  it("fails when the connection is cut in the middle of the archive", async () => {
    serve(release);
    server.faults = { cutAfter: { [ARCHIVE]: 1_000_000 } };
    expectRefused(
      await install(shell, { env: { IRONCLAW_VERSION: VERSION } }),
      3,
      `could not download ${server.url}/download/${TAG}/${ARCHIVE}: curl: (18)`,
    );
  });

  it("fails closed without a SHA-256 tool, before downloading anything", async () => {
    serve(release);
    const path = toolDir(work, [...BASE_TOOLS, "curl"]);
    const outcome = await install(shell, { path, env: { IRONCLAW_VERSION: VERSION } });
    expectRefused(outcome, 3, "no SHA-256 tool on PATH (sha256sum, shasum or openssl)");
    expect(outcome.stdout).not.toContain("Downloading");
  });

  it.each([
    ["FreeBSD", "amd64", "the operating system 'FreeBSD'"],
    ["Linux", "riscv64", "the processor 'riscv64' on linux"],
  ])(
    "refuses %s on %s, naming the _node.tar.gz fallback when Node.js >= 20.17 is here",
    async (os, arch, what) => {
      const withNode = toolDir(work, [...BASE_TOOLS, "curl", "sha256sum"], {
        uname: fakeUname(os, arch),
        node: "echo v20.17.0",
      });
      const outcome = await install(shell, { path: withNode, env: { IRONCLAW_VERSION: VERSION } });
      expectRefused(outcome, 3, `there is no ironclaw executable for ${what}`);
      expect(outcome.stderr).toContain("Node.js 20.17.0 is installed, so use the platform-independent");
      expect(outcome.stderr).toContain(`ironclaw_<version>_node.tar.gz from ${server.url}`);
      expect(outcome.stdout).not.toContain("Downloading");

      const oldNode = toolDir(work, [...BASE_TOOLS, "curl", "sha256sum"], {
        uname: fakeUname(os, arch),
        node: "echo v20.16.0",
      });
      const tooOld = await install(shell, { path: oldNode, env: { IRONCLAW_VERSION: VERSION } });
      expectRefused(tooOld, 3, `there is no ironclaw executable for ${what}`);
      expect(tooOld.stderr).toContain("With Node.js >= 20.17 installed, the platform-independent");
      expect(tooOld.stderr).not.toContain("is installed, so use");
    },
  );

  it("refuses an install directory that cannot be made (its parent is a regular file), before downloading", async () => {
    const sandbox = new Sandbox(work);
    const file = join(sandbox.root, "not-a-directory");
    writeFileSync(file, "");
    serve(release);
    const outcome = await install(shell, {
      sandbox,
      env: { IRONCLAW_VERSION: VERSION, IRONCLAW_INSTALL_DIR: join(file, "bin") },
    });
    expectRefused(
      outcome,
      3,
      `cannot install into ${join(file, "bin")}: expected a directory, but ${file} is not one`,
    );
    expect(outcome.stdout).not.toContain("Downloading");
    expect(readFileSync(file, "utf8")).toBe("");
  });

  it.each([
    ["../", "../../../escaped"],
    ["an absolute path", "/tmp/ironclaw-installer-escaped"],
    ["a .. in the middle", "a/../../escaped"],
  ])("refuses an archive with %s entry after Checksum OK, extracting nothing", async (_kind, entry) => {
    const hostile = tarGz([
      { name: "ironclaw", data: `#!/bin/sh\necho ${VERSION}\n` },
      { name: entry, data: "escaped\n" },
    ]);
    serve(
      variantOf(release, work, {
        [ARCHIVE]: hostile,
        SHA256SUMS: sha256Line(ARCHIVE, hostile),
      }),
    );
    const outcome = await install(shell, { env: { IRONCLAW_VERSION: VERSION } });
    expectRefused(
      outcome,
      1,
      `${ARCHIVE} holds the entry '${entry}', which points outside the directory it is extracted into`,
      true,
    );
    expect(existsSync(join(outcome.sandbox.root, "escaped"))).toBe(false);
    expect(existsSync("/tmp/ironclaw-installer-escaped")).toBe(false);
  });

  it("stops on Ctrl-C during a download and removes its temporary directory", async () => {
    serve(release);
    server.faults = { delayMs: 5_000 };
    const sandbox = new Sandbox(work);
    const env = sandbox.env(standardPath, { IRONCLAW_BASE_URL: server.url, IRONCLAW_VERSION: VERSION });
    let interrupted = false;
    const result = await runInstaller(shell, {
      env,
      cwd: sandbox.cwd,
      started: (child, output) => {
        const poll = setInterval(() => {
          // The temporary directory exists once the first download has started.
          if (!interrupted && output().includes("Downloading") && sandbox.leftInTmp().length === 1) {
            interrupted = true;
            clearInterval(poll);
            process.kill(-(child.pid as number), "SIGINT");
          }
        }, 50);
        child.on("close", () => clearInterval(poll));
      },
    });
    expect(interrupted).toBe(true);
    expect(result.code, result.stdout + result.stderr).toBe(130);
    expect(sandbox.leftInTmp()).toEqual([]);
    expect(sandbox.installed()).toEqual([]);
  }, 15_000);
});

runIf("install.sh with other tools and settings", () => {
  const shell = SHELLS[0];

  it("downloads with GNU Wget when there is no curl", async () => {
    serve(release);
    const path = toolDir(work, [...BASE_TOOLS, "wget", "sha256sum"]);
    const outcome = await install(shell, { path });
    expectInstalled(outcome);
    expect(outcome.stdout).toContain("Checksum OK");
  });

  it("reports wget's failures too: HTTP 404 and a cut connection", async () => {
    serve(release);
    const path = toolDir(work, [...BASE_TOOLS, "wget", "sha256sum"]);
    server.faults = { status: { [ARCHIVE]: 404 } };
    expectRefused(
      await install(shell, { path, env: { IRONCLAW_VERSION: VERSION } }),
      3,
      `the release ${TAG} has no ${ARCHIVE}`,
    );
    server.faults = { cutAfter: { [ARCHIVE]: 1_000_000 } };
    expectRefused(
      await install(shell, { path, env: { IRONCLAW_VERSION: VERSION } }),
      3,
      `could not download ${server.url}/download/${TAG}/${ARCHIVE}`,
    );
  }, 60_000);

  it("runs on a BusyBox userland (BusyBox sh, wget, tar, awk and sha256sum) over loopback", async () => {
    serve(release);
    const busybox = Object.fromEntries(
      [...BASE_TOOLS, "wget", "sha256sum", "nc", "timeout"].map((tool) => [tool, "/usr/bin/busybox"]),
    );
    const path = toolDir(work, [], {}, busybox);
    const outcome = await install(SHELLS[2], { path });
    expectInstalled(outcome);
    expect(outcome.stdout).toContain("Checksum OK");
  });

  it("refuses BusyBox wget for https://, since it may not check certificates", async () => {
    const path = toolDir(work, [...BASE_TOOLS, "sha256sum"], {}, { wget: "/usr/bin/busybox" });
    expectRefused(
      await install(shell, { path, env: { IRONCLAW_BASE_URL: "https://127.0.0.1:9/releases" } }),
      3,
      "only a wget that is not GNU Wget (BusyBox's, say) is on PATH, and it may not check TLS certificates",
    );
  });

  it.each(["head", "wc", "sleep"])("fails closed without %s, before downloading anything", async (tool) => {
    const path = toolDir(
      work,
      [...BASE_TOOLS, "curl", "sha256sum"].filter((t) => t !== tool),
    );
    const outcome = await install(shell, { path });
    expectRefused(outcome, 3, `${tool} is not on PATH, and the installer needs head, wc and sleep`);
    expect(outcome.stdout).not.toContain("Downloading");
  });

  it("fails when neither curl nor wget is there", async () => {
    const path = toolDir(work, [...BASE_TOOLS, "sha256sum"]);
    expectRefused(await install(shell, { path }), 3, "neither curl nor wget is on PATH");
  });

  it.each([
    ["shasum -a 256", "shasum"],
    ["openssl dgst -sha256", "openssl"],
  ])("hashes with %s when it is the only tool", async (_name, tool) => {
    serve(release);
    const path = toolDir(work, [...BASE_TOOLS, "curl", tool]);
    expectInstalled(await install(shell, { path, env: { IRONCLAW_VERSION: VERSION } }));
  });

  it("reads the latest tag from a static mirror's /latest text", async () => {
    serve(release);
    server.faults = { latestAsText: true };
    expectInstalled(await install(shell));
  });

  it("prints what a hostile /latest says with its control characters replaced", async () => {
    // A title change and a screen clear, in a text tag and in a Location: never raw on the terminal.
    const control = /[\u0000-\u0009\u000b-\u001f\u007f]/;
    serve(release);
    server.faults = { latestAsText: true };
    server.latest = "v9.9.9\u001b]0;pwned\u0007\u001b[2J";
    const text = await install(shell);
    expectRefused(text, 3, `${server.url}/latest named 'v9.9.9?]0;pwned??[2J' as the latest release`);
    expect(text.stderr).not.toMatch(control);
    server.faults = { latestHead: "302 Found\r\nlocation: /elsewhere/\u001b[2J" };
    const location = await install(shell);
    expectRefused(location, 3, `${server.url}/latest redirected to '/elsewhere/?[2J', expected`);
    expect(location.stderr).not.toMatch(control);
  });

  it("refuses a /latest that redirects anywhere but <base>/tag/<tag>", async () => {
    serve(release);
    server.faults = { redirectLoop: true };
    expectRefused(
      await install(shell),
      3,
      `${server.url}/latest redirected to '/latest-again', expected <base>/tag/vX.Y.Z`,
    );
  });

  it("fails when there is no latest release, or no /latest at all", async () => {
    // The server redirects to <base>/tag/ with no tag when it has no latest release.
    expectRefused(
      await install(shell),
      3,
      `${server.url}/latest named '' as the latest release, expected a tag vX.Y.Z`,
    );
    expectRefused(
      await install(shell, { env: { IRONCLAW_BASE_URL: `${server.url}/elsewhere` } }),
      3,
      `could not look up the latest release at ${server.url}/elsewhere/latest: HTTP 404`,
    );
  });

  it("accepts IRONCLAW_VERSION with a v, and adds the profile line once over two installs", async () => {
    serve(release);
    const sandbox = new Sandbox(work);
    const first = await install(shell, { sandbox, env: { IRONCLAW_VERSION: TAG } });
    expectInstalled(first);
    expect(first.stdout).toContain("Signature NOT checked");
    // The second install finds the first one's ironclaw and verifies with it, against this release's signer.
    const second = await install(shell, {
      sandbox,
      env: {
        IRONCLAW_VERSION: TAG,
        IRONCLAW_REPO: REPOSITORY,
        IRONCLAW_TRUSTED_ROOT: join(release, "trusted_root.json"),
      },
    });
    expectInstalled(second);
    expect(second.stdout).toContain("Signature OK");
    expect(second.stdout).toContain(`${join(sandbox.home, ".profile")} already adds`);
    const profile = readFileSync(join(sandbox.home, ".profile"), "utf8");
    expect(profile.split("\n").filter((line) => line.startsWith("export PATH="))).toHaveLength(1);
  });

  it("leaves profiles alone with IRONCLAW_NO_MODIFY_PATH, or when the directory is on PATH already", async () => {
    serve(release);
    const quiet = await install(shell, { env: { IRONCLAW_VERSION: VERSION, IRONCLAW_NO_MODIFY_PATH: "1" } });
    expectInstalled(quiet);
    expect(quiet.stdout).toContain(`${quiet.sandbox.installDir} is not on PATH; to use ironclaw, add it`);
    expect(existsSync(join(quiet.sandbox.home, ".profile"))).toBe(false);

    const sandbox = new Sandbox(work);
    const onPath = await install(shell, {
      sandbox,
      path: `${standardPath}:${sandbox.installDir}`,
      env: { IRONCLAW_VERSION: VERSION },
    });
    expectInstalled(onPath);
    expect(existsSync(join(sandbox.home, ".profile"))).toBe(false);
  });

  it("writes the profile of the user's shell: .bashrc for bash, .zshrc for zsh, conf.d for fish", async () => {
    serve(release);
    for (const [shellPath, profile, line] of [
      ["/bin/bash", ".bashrc", 'export PATH="DIR:$PATH"'],
      ["/usr/bin/zsh", ".zshrc", 'export PATH="DIR:$PATH"'],
      ["/usr/bin/fish", ".config/fish/conf.d/ironclaw.fish", 'fish_add_path "DIR"'],
    ] as const) {
      const outcome = await install(shell, { env: { IRONCLAW_VERSION: VERSION, SHELL: shellPath } });
      expectInstalled(outcome);
      expect(readFileSync(join(outcome.sandbox.home, profile), "utf8")).toContain(
        line.replace("DIR", outcome.sandbox.installDir),
      );
    }
  }, 60_000);

  it("replaces an earlier ironclaw with one rename, and refuses a directory in its place", async () => {
    serve(variantOf(release, work, {}));
    const sandbox = new Sandbox(work);
    mkdirSync(sandbox.installDir, { recursive: true });
    // Not executable, so not a verifier either: the install checks the checksum only, then replaces it.
    writeFileSync(join(sandbox.installDir, "ironclaw"), "#!/bin/sh\necho 0.0.1\n", { mode: 0o644 });
    const before = statSync(join(sandbox.installDir, "ironclaw")).ino;
    const replaced = await install(shell, { sandbox, env: { IRONCLAW_VERSION: VERSION } });
    expectInstalled(replaced);
    expect(replaced.stdout).toContain("Signature NOT checked");
    // A new file renamed over the old one, not the old one rewritten in place.
    expect(statSync(join(sandbox.installDir, "ironclaw")).ino).not.toBe(before);
    expect(sandbox.installed().sort()).toEqual(["bin", "bin/ironclaw"]);

    const blocked = new Sandbox(work);
    mkdirSync(join(blocked.installDir, "ironclaw"), { recursive: true });
    const outcome = await install(shell, { sandbox: blocked, env: { IRONCLAW_VERSION: VERSION } });
    expect(outcome.code).toBe(3);
    expect(outcome.stderr).toContain(
      `cannot install ${join(blocked.installDir, "ironclaw")}: it is a directory`,
    );
    expect(outcome.stdout).not.toContain("Downloading");
  });

  it("refuses an executable that says another version, or that does not run here", async () => {
    for (const [body, message, code] of [
      ["echo 9.9.9", `says it is version '9.9.9', expected ${VERSION}`, 1],
      ["echo 'cannot execute: required file not found' >&2; exit 126", "does not run on this machine", 3],
    ] as const) {
      const archive = tarGz([{ name: "ironclaw", data: `#!/bin/sh\n${body}\n` }]);
      serve(variantOf(release, work, { [ARCHIVE]: archive, SHA256SUMS: sha256Line(ARCHIVE, archive) }));
      expectRefused(await install(shell, { env: { IRONCLAW_VERSION: VERSION } }), code, message, true);
    }
  });

  it("refuses an archive whose ironclaw is a symbolic link, or that has none", async () => {
    for (const [entries, message] of [
      [[{ name: "ironclaw", symlinkTo: "/bin/sh" }], "ironclaw in"],
      [[{ name: "README.md", data: "hi" }], "holds 0 entries named 'ironclaw', expected exactly one"],
    ] as const) {
      const archive = tarGz(entries);
      serve(variantOf(release, work, { [ARCHIVE]: archive, SHA256SUMS: sha256Line(ARCHIVE, archive) }));
      expectRefused(await install(shell, { env: { IRONCLAW_VERSION: VERSION } }), 1, message, true);
    }
  });
});

runIf("install.sh with a verifier already installed", () => {
  const shell = SHELLS[0];
  const trust = () => ({
    IRONCLAW_VERSION: VERSION,
    IRONCLAW_REPO: REPOSITORY,
    IRONCLAW_TRUSTED_ROOT: join(release, "trusted_root.json"),
  });

  /** A sandbox whose install directory holds the release's ironclaw, as an earlier install left it. */
  function withEarlierInstall(): Sandbox {
    const sandbox = new Sandbox(work);
    mkdirSync(sandbox.installDir, { recursive: true });
    writeFileSync(join(sandbox.installDir, "ironclaw"), readFileSync(earlier), { mode: 0o755 });
    return sandbox;
  }

  it("verifies the signature and provenance with the earlier ironclaw: Signature OK", async () => {
    serve(release);
    const outcome = await install(shell, { sandbox: withEarlierInstall(), env: trust() });
    expectInstalled(outcome);
    const identity = `https://github.com/${REPOSITORY}/.github/workflows/release.yml@refs/tags/${TAG}`;
    expect(outcome.stdout).toContain(`Signature OK: SHA256SUMS is signed by ${identity}`);
    expect(outcome.stdout).toContain(`Provenance OK: the ironclaw inside ${ARCHIVE} was built by`);
    expect(outcome.stdout).not.toContain("Signature NOT checked");
    expect(outcome.stdout.indexOf("Checksum OK")).toBeLessThan(outcome.stdout.indexOf("Signature OK"));
  });

  it("refuses a release the earlier ironclaw rejects, and keeps the earlier ironclaw in place", async () => {
    // Signed by another workflow of the repository: the checksums match, the signer does not.
    const dir = variantOf(release, work, { SHA256SUMS: null, "SHA256SUMS.sigstore.json": null });
    const names = readFileSync(join(release, "SHA256SUMS"), "utf8")
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => line.slice(66));
    await resign(
      sigstore,
      dir,
      githubWorkflowIdentity({
        repository: REPOSITORY,
        ref: `refs/tags/${TAG}`,
        sha: "0".repeat(40),
        workflowPath: ".github/workflows/other.yml",
      }),
      names,
    );
    serve(dir);
    const sandbox = withEarlierInstall();
    const before = statSync(join(sandbox.installDir, "ironclaw"));
    const outcome = await install(shell, { sandbox, env: trust() });
    expect(outcome.code, outcome.stdout + outcome.stderr).toBe(1);
    expect(outcome.stderr).toContain(
      `${join(sandbox.installDir, "ironclaw")} rejected the signature or provenance`,
    );
    expect(outcome.stdout).toContain("Checksum OK");
    expect(outcome.stdout).not.toContain("Signature OK");
    expect(statSync(join(sandbox.installDir, "ironclaw")).ino).toBe(before.ino);
    expect(sandbox.installed().sort()).toEqual(["bin", "bin/ironclaw"]);
    expect(sandbox.leftInTmp()).toEqual([]);
  });

  it("refuses a release signed for another repository than IRONCLAW_REPO", async () => {
    serve(release);
    const sandbox = withEarlierInstall();
    const outcome = await install(shell, { sandbox, env: { ...trust(), IRONCLAW_REPO: "acme/other" } });
    expect(outcome.code, outcome.stdout + outcome.stderr).toBe(1);
    expect(outcome.stderr).toContain("rejected the signature or provenance");
    expect(sandbox.installed().sort()).toEqual(["bin", "bin/ironclaw"]);
  });

  it("fails closed when the verifier is there but the signature is not", async () => {
    serve(variantOf(release, work, { "SHA256SUMS.sigstore.json": null }));
    const sandbox = withEarlierInstall();
    const outcome = await install(shell, { sandbox, env: trust() });
    expect(outcome.code).toBe(3);
    expect(outcome.stderr).toContain(
      `the release ${TAG} has no SHA256SUMS.sigstore.json at ${server.url}/download/${TAG}/SHA256SUMS.sigstore.json (HTTP 404): the signature over SHA256SUMS is missing`,
    );
    expect(sandbox.installed().sort()).toEqual(["bin", "bin/ironclaw"]);
    expect(sandbox.leftInTmp()).toEqual([]);
  });

  it("refuses IRONCLAW_TRUSTED_ROOT when nothing can use it", async () => {
    serve(release);
    expectRefused(
      await install(shell, { env: trust() }),
      2,
      "IRONCLAW_TRUSTED_ROOT is set, but there is no verifier to use it",
    );
  });

  describe("cosign", () => {
    // No cosign on this machine: a stand-in that answers cosign's verify-blob and
    // verify-blob-attestation with the repository's own verifier (ironclaw verify-bundle), so the
    // signatures are really checked. It proves what install.sh passes and how it takes the answers,
    // not that cosign itself accepts them.
    function cosignStandIn(log: string): string {
      const cli = join(ROOT, "packages", "cli", "bin", "ironclaw.js");
      const script = `
printf '%s\\n' "$*" >> ${log}
command=$1; shift
bundle=""; identity=""; issuer=""; root=""; file=""
while [ $# -gt 0 ]; do
  case $1 in
    --bundle) bundle=$2; shift 2 ;;
    --certificate-identity) identity=$2; shift 2 ;;
    --certificate-oidc-issuer) issuer=$2; shift 2 ;;
    --trusted-root) root=$2; shift 2 ;;
    --new-bundle-format) shift ;;
    --type) [ "$2" = slsaprovenance1 ] || exit 2; shift 2 ;;
    -*) echo "unknown flag $1" >&2; exit 2 ;;
    *) file=$1; shift ;;
  esac
done
case $command in verify-blob|verify-blob-attestation) ;; *) exit 2 ;; esac
exec ${process.execPath} ${cli} verify-bundle --bundle "$bundle" --certificate-identity "$identity" \\
  --certificate-oidc-issuer "$issuer" --trusted-root "$root" "$file"`;
      return toolDir(work, [...BASE_TOOLS, "curl", "sha256sum"], { cosign: script });
    }

    it("verifies the signature over SHA256SUMS and the provenance of the archive and the executable", async () => {
      serve(release);
      const log = join(work, "cosign-ok.log");
      const outcome = await install(shell, { path: cosignStandIn(log), env: trust() });
      expectInstalled(outcome);
      expect(outcome.stdout).toContain("Signature OK");
      expect(outcome.stdout).toContain("Provenance OK");
      const calls = readFileSync(log, "utf8").trim().split("\n");
      expect(calls.map((call) => call.split(" ")[0])).toEqual([
        "verify-blob",
        "verify-blob-attestation",
        "verify-blob-attestation",
      ]);
      expect(calls[0]).toContain(
        `--certificate-identity https://github.com/${REPOSITORY}/.github/workflows/release.yml@refs/tags/${TAG} --certificate-oidc-issuer https://token.actions.githubusercontent.com`,
      );
      expect(calls[0]).toMatch(/\/SHA256SUMS$/);
      expect(calls[1]).toMatch(new RegExp(`/${ARCHIVE.replaceAll(".", "\\.")}$`));
      expect(calls[2]).toMatch(/\/extracted\/ironclaw$/);
    });

    it("refuses a signature cosign rejects", async () => {
      const bundle = JSON.parse(readFileSync(join(release, "SHA256SUMS.sigstore.json"), "utf8"));
      const signature = Buffer.from(bundle.messageSignature.signature, "base64");
      signature[10] = (signature[10] ?? 0) ^ 1;
      bundle.messageSignature.signature = signature.toString("base64");
      serve(variantOf(release, work, { "SHA256SUMS.sigstore.json": JSON.stringify(bundle) }));
      const outcome = await install(shell, {
        path: cosignStandIn(join(work, "cosign-bad.log")),
        env: trust(),
      });
      expect(outcome.code, outcome.stdout + outcome.stderr).toBe(1);
      expect(outcome.stderr).toContain("rejected the signature over SHA256SUMS");
      expect(outcome.sandbox.installed()).toEqual([]);
      expect(outcome.sandbox.leftInTmp()).toEqual([]);
    });
  });
});

runIf("install.sh on the other supported platforms", () => {
  // Stand-in archives for every platform (a script as ironclaw), each checked against SHA256SUMS:
  // what is proven is which archive the installer picks for what `uname` says.
  const other = "0.7.0";
  it.each([
    ["Linux", "x86_64", "linux_amd64"],
    ["Linux", "aarch64", "linux_arm64"],
    ["Darwin", "x86_64", "darwin_amd64"],
    ["Darwin", "arm64", "darwin_arm64"],
  ])("%s %s installs the %s archive", async (os, arch, target) => {
    const dir = scratch("ironclaw-platforms-");
    let sums = "";
    for (const name of ["linux_amd64", "linux_arm64", "darwin_amd64", "darwin_arm64"]) {
      const archive = tarGz([
        { name: "ironclaw", data: `#!/bin/sh\necho ${other}\n` },
        { name: name, data: "" },
      ]);
      writeFileSync(join(dir, `ironclaw_${other}_${name}.tar.gz`), archive);
      sums += sha256Line(`ironclaw_${other}_${name}.tar.gz`, archive);
    }
    writeFileSync(join(dir, "SHA256SUMS"), sums);
    server.releases.set(`v${other}`, dir);
    const path = toolDir(work, [...BASE_TOOLS, "curl", "sha256sum"], { uname: fakeUname(os, arch) });
    const outcome = await install(SHELLS[0], { path, env: { IRONCLAW_VERSION: other } });
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(outcome.stdout).toContain(`Checksum OK: ironclaw_${other}_${target}.tar.gz matches SHA256SUMS`);
    expect(spawnSync(join(outcome.sandbox.installDir, "ironclaw"), { encoding: "utf8" }).stdout).toBe(
      `${other}\n`,
    );
    removeAll(dir);
  });
});
