import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import {
  createServer as createHttpServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { OFFICIAL_REPOSITORY, releaseBaseUrl } from "@ironclaw/verify/release";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { removeAll } from "../../packages/cli/test/release-fixture.js";
import { haveSystemTools } from "../support/system-tools.js";
import {
  BASE_TOOLS,
  fakeUname,
  INSTALL_SH,
  listTree,
  runInstaller,
  Sandbox,
  SHELLS,
  scratch,
  sha256Line,
  tarGz,
  toolDir,
} from "./harness.js";

// install.sh without a real release: its shape, what a cut download does (nothing), its settings, and
// HTTPS against a local server with its own certificate.
const script = readFileSync(INSTALL_SH);
const tools = haveSystemTools("install.sh offline: shape, cuts, settings, https", [
  "shellcheck",
  "dash",
  "busybox",
  "curl",
  "wget",
  "sha256sum",
  "openssl",
]);
let work: string;
let standardPath: string;

beforeAll(() => {
  if (!tools) return;
  work = scratch("ironclaw-installers-offline-");
  standardPath = toolDir(work, [...BASE_TOOLS, "curl", "sha256sum"]);
});
afterAll(() => {
  if (tools) removeAll(work);
});

describe.runIf(tools)("install.sh as a file", () => {
  it("is clean under shellcheck -s sh", () => {
    const result = spawnSync("shellcheck", ["-s", "sh", INSTALL_SH], { encoding: "utf8" });
    expect(result.stdout + result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  it.each(SHELLS)("parses under $name (sh -n)", (shell) => {
    const [command, ...args] = shell.argv;
    const result = spawnSync(command as string, [...args, "-n", INSTALL_SH], { encoding: "utf8" });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  it("keeps all code in functions: at column 0 only comments, function definitions and the last line's main call", () => {
    const lines = script.toString("utf8").split("\n");
    expect(lines.at(-1)).toBe("");
    expect(lines.at(-2)).toBe('main "$@"');
    const outside = lines
      .slice(0, -2)
      .map((line, index) => ({ line, number: index + 1 }))
      .filter(({ line }) => /^\S/.test(line))
      .filter(({ line }) => !/^#/.test(line) && !/^[a-z_]+\(\) \{( .*; \})?$/.test(line) && line !== "}");
    expect(outside).toEqual([]);
  });
});

describe.runIf(tools)("install.sh cut short and piped to a shell", () => {
  // Every external command is a logger, so anything the cut script runs is written down; the base
  // URL is a server that counts connections; HOME, TMPDIR, the working and install directories must
  // stay empty.
  let trapPath: string;
  let counter: Server;
  let connections = 0;
  let counterUrl: string;

  beforeAll(async () => {
    const logger = join(work, "logger");
    // Builtins only (printf, ${0##*/}): an external command here would be a logger again.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansions, not a template
    const body = '#!/bin/sh\nprintf \'%s %s\\n\' "${CUT:-?}" "${0##*/} $*" >> "$TRAP_LOG"\nexit 0\n';
    writeFileSync(logger, body, { mode: 0o755 });
    const names = new Set<string>();
    for (const dir of ["/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"]) {
      if (existsSync(dir)) for (const name of readdirSync(dir)) names.add(name);
    }
    for (const name of ["curl", "wget", "sha256sum", "shasum", "openssl", "cosign", "ironclaw", "node"]) {
      names.add(name);
    }
    trapPath = toolDir(
      work,
      [],
      {},
      Object.fromEntries([...names].filter((name) => !name.includes("/")).map((name) => [name, logger])),
    );
    counter = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => counter.listen(0, "127.0.0.1", resolve));
    counterUrl = `http://127.0.0.1:${(counter.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => counter.close(() => resolve()));
  });

  /**
   * Byte offsets to cut at: every line's start and middle, and inside the last line `main "$@"` (at
   * `m`, `mai`, `main "`, `main "$@`), where only `main` and `main ` would be the whole script.
   */
  function cutPoints(): number[] {
    const text = script.toString("latin1");
    const lastLine = text.lastIndexOf("\n", text.length - 2) + 1;
    const cuts = new Set<number>([lastLine + 1, lastLine + 3, lastLine + 6, lastLine + 8]);
    let start = 0;
    while (start < lastLine) {
      const end = text.indexOf("\n", start);
      cuts.add(start);
      cuts.add(start + Math.floor((end - start) / 2));
      start = end + 1;
    }
    return [...cuts].sort((a, b) => a - b);
  }

  /** Feeds the first n bytes of install.sh to the shell on standard input, for every cut; returns exit codes by cut. */
  function runCuts(argv: readonly string[], cuts: readonly number[], sandbox: Sandbox, log: string) {
    const driver = `
      for n in $CUTS; do
        head -c "$n" "$SCRIPT" | env -i PATH="$TRAP" HOME="$SANDBOX_HOME" TMPDIR="$SANDBOX_TMP" SHELL=/bin/sh \\
          CUT="$n" TRAP_LOG="$LOG" IRONCLAW_BASE_URL="$URL" IRONCLAW_INSTALL_DIR="$DEST" "$@" >/dev/null 2>&1
        echo "$n $?"
      done`;
    return new Promise<Map<number, number>>((resolve, reject) => {
      const child = spawn("/usr/bin/bash", ["-c", driver, "driver", ...argv], {
        cwd: sandbox.cwd,
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          CUTS: cuts.join(" "),
          SCRIPT: INSTALL_SH,
          TRAP: trapPath,
          SANDBOX_HOME: sandbox.home,
          SANDBOX_TMP: sandbox.tmp,
          LOG: log,
          URL: counterUrl,
          DEST: sandbox.installDir,
        },
      });
      let stdout = "";
      child.stdout.on("data", (chunk) => (stdout += chunk));
      child.on("error", reject);
      child.on("close", () => {
        const codes = new Map<number, number>();
        for (const line of stdout.trim().split("\n")) {
          const [cut, code] = line.split(" ").map(Number);
          codes.set(cut ?? -1, code ?? -1);
        }
        resolve(codes);
      });
    });
  }

  function offsetOf(text: string, after = 0): number {
    const index = script.toString("latin1").indexOf(text, after);
    if (index < 0) throw new Error(`install.sh no longer has ${JSON.stringify(text)}`);
    return index;
  }

  it.each(SHELLS)(
    "$name runs nothing that touches the file system or the network, at any cut",
    async (shell) => {
      const sandbox = new Sandbox(work);
      const log = join(sandbox.root, "commands.log");
      const before = connections;
      const mainBody = offsetOf("  read_settings\n", offsetOf("main() {"));
      const functionBody = offsetOf("  case $downloader in", offsetOf("http_get() {"));
      const named = [mainBody, mainBody + 5, functionBody, functionBody + 7];
      const cuts = [...new Set([...cutPoints(), ...named])].sort((a, b) => a - b);
      const codes = await runCuts(shell.argv, cuts, sandbox, log);

      expect(codes.size).toBe(cuts.length);
      expect(existsSync(log) ? readFileSync(log, "utf8") : "").toBe("");
      expect(connections - before).toBe(0);
      for (const dir of [sandbox.home, sandbox.tmp, sandbox.cwd]) expect(readdirSync(dir)).toEqual([]);
      expect(existsSync(sandbox.installDir)).toBe(false);
      // Cut inside main or inside a function body, the shell refuses to parse what it got.
      for (const cut of named) expect(codes.get(cut), `cut at byte ${cut}`).not.toBe(0);
      sandbox.remove();
    },
    120_000,
  );

  it("the traps are live: the whole script, piped the same way, is caught running commands and connecting", async () => {
    const sandbox = new Sandbox(work);
    const log = join(sandbox.root, "commands.log");
    await runCuts(SHELLS[0].argv, [script.length], sandbox, log);
    expect(readFileSync(log, "utf8")).toContain(`${script.length} uname -s`);

    const before = connections;
    const result = await runInstaller(SHELLS[0], {
      env: sandbox.env(standardPath, { IRONCLAW_BASE_URL: counterUrl, IRONCLAW_VERSION: "0.6.0" }),
      cwd: sandbox.cwd,
      piped: true,
    });
    expect(result.code).toBe(3);
    expect(connections - before).toBeGreaterThan(0);
    sandbox.remove();
  });
});

describe.runIf(tools).each(SHELLS)("install.sh settings under $name", (shell) => {
  async function attempt(env: Record<string, string>, args: string[] = [], path = standardPath) {
    const sandbox = new Sandbox(work);
    // A loopback port where nothing listens, unless the test sets its own: a setting wrongly taken fails here.
    const result = await runInstaller(shell, {
      env: { ...sandbox.env(path, { IRONCLAW_BASE_URL: "http://127.0.0.1:9" }), ...env },
      cwd: sandbox.cwd,
      args,
    });
    const left = { tmp: sandbox.leftInTmp(), installed: sandbox.installed(), home: listTree(sandbox.home) };
    sandbox.remove();
    return { ...result, left };
  }

  function expectSettingRefused(outcome: Awaited<ReturnType<typeof attempt>>, message: string): void {
    expect(outcome.code, outcome.stderr).toBe(2);
    expect(outcome.stderr).toContain(message);
    expect(outcome.stdout).toBe("");
    expect(outcome.left).toEqual({ tmp: [], installed: [], home: [] });
  }

  it.each([
    "http://example.com/releases",
    "http://127.0.0.1.evil.example/releases",
    "http://127.0.0.1@evil.example/releases",
    "http://127.0.0.1:80@evil.example/releases",
    "http://localhost.evil.example/releases",
    "http://[::1].evil.example/releases",
    "HTTP://127.0.0.1/releases",
    "ftp://127.0.0.1/releases",
    "file:///tmp/releases",
    "https://",
    "127.0.0.1/releases",
  ])("refuses IRONCLAW_BASE_URL=%s", async (url) => {
    expectSettingRefused(
      await attempt({ IRONCLAW_BASE_URL: url }),
      `IRONCLAW_BASE_URL must be https:// (plain http:// only for 127.0.0.1, localhost or [::1]), found '${url}'`,
    );
  });

  it.each([
    "https://example.com/a b",
    "https://example.com/'x'",
    'https://example.com/"x"',
    "https://example.com/`x`",
  ])("refuses IRONCLAW_BASE_URL=%s, which is no plain URL", async (url) => {
    expectSettingRefused(await attempt({ IRONCLAW_BASE_URL: url }), "IRONCLAW_BASE_URL must be a plain URL");
  });

  it.each(["http://localhost:9/releases", "http://[::1]:9/releases", "http://127.0.0.1:9"])(
    "takes IRONCLAW_BASE_URL=%s (loopback) and only then finds nothing listening",
    async (url) => {
      const outcome = await attempt({ IRONCLAW_BASE_URL: url });
      expect(outcome.code).toBe(3);
      expect(outcome.stderr).toContain(
        `could not look up the latest release at ${url.replace(/\/$/, "")}/latest`,
      );
      expect(outcome.left.tmp).toEqual([]);
    },
  );

  it.each(["1.2", "v1.2.3.4", "1.2.3; touch x", "1.2.3\nx", "../1.2.3", "1.2.3/../../x", "vv1.2.3"])(
    "refuses IRONCLAW_VERSION=%j",
    async (version) => {
      expectSettingRefused(
        await attempt({ IRONCLAW_VERSION: version, IRONCLAW_BASE_URL: "http://127.0.0.1:9" }),
        "IRONCLAW_VERSION must be X.Y.Z or vX.Y.Z",
      );
    },
  );

  it.each(["acme", "acme/x/y", "acme/x y", "../x", "acme/..", "./x"])(
    "refuses IRONCLAW_REPO=%j",
    async (repo) => {
      expectSettingRefused(
        await attempt({ IRONCLAW_REPO: repo }),
        `IRONCLAW_REPO must be OWNER/NAME, found '${repo}'`,
      );
    },
  );

  it.each(["2", "yes", "true", " 1"])("refuses IRONCLAW_ALLOW_DOWNGRADE=%j", async (value) => {
    expectSettingRefused(
      await attempt({ IRONCLAW_ALLOW_DOWNGRADE: value }),
      `IRONCLAW_ALLOW_DOWNGRADE must be 1 (or 0, or unset), found '${value}'`,
    );
  });

  it.each(["0", "-1", "1.5", "10000", "60s", "0x10"])("refuses IRONCLAW_TIMEOUT=%j", async (value) => {
    expectSettingRefused(
      await attempt({ IRONCLAW_TIMEOUT: value }),
      `IRONCLAW_TIMEOUT must be a number of seconds from 1 to 9999, found '${value}'`,
    );
  });

  it("refuses an IRONCLAW_TRUSTED_ROOT that is not a file", async () => {
    expectSettingRefused(
      await attempt({ IRONCLAW_TRUSTED_ROOT: "/nonexistent/trusted_root.json" }),
      "IRONCLAW_TRUSTED_ROOT must name a readable trusted_root.json, found '/nonexistent/trusted_root.json'",
    );
  });

  it("needs IRONCLAW_INSTALL_DIR when HOME is unset", async () => {
    const sandbox = new Sandbox(work);
    const { HOME: _home, IRONCLAW_INSTALL_DIR: _dir, ...env } = sandbox.env(standardPath);
    const result = await runInstaller(shell, { env, cwd: sandbox.cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      "HOME is not set, so there is no default install directory: set IRONCLAW_INSTALL_DIR",
    );
    expect(sandbox.leftInTmp()).toEqual([]);
    sandbox.remove();
  });

  it("takes no arguments, and --help names the defaults: the official repository and its releases", async () => {
    const refused = await attempt({}, ["--yes"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("install.sh takes no arguments, found '--yes'");

    const help = await attempt({}, ["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain(`(default: ${OFFICIAL_REPOSITORY})`);
    expect(help.left).toEqual({ tmp: [], installed: [], home: [] });
  });

  it("defaults to the official repository's releases on GitHub", async () => {
    // Refused before the network on a platform with no build, naming the base URL it would use.
    const path = toolDir(work, [...BASE_TOOLS, "curl", "sha256sum"], { uname: fakeUname("SunOS", "sparc") });
    const sandbox = new Sandbox(work);
    const result = await runInstaller(shell, { env: sandbox.env(path), cwd: sandbox.cwd });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`from ${releaseBaseUrl(OFFICIAL_REPOSITORY)} runs anywhere`);
    sandbox.remove();
  });
});

describe.runIf(tools)("install.sh over https", () => {
  // A release at https://127.0.0.1 with a certificate made for the test; `/plain/…` paths redirect to the
  // same files over http://, which the installer must refuse.
  const version = "0.7.0";
  const archive = `ironclaw_${version}_linux_amd64.tar.gz`;
  const files = new Map<string, Buffer>();
  let certificate: string;
  let secure: HttpServer;
  let plain: HttpServer;
  let plainRequests = 0;
  let secureUrl: string;

  function serveFiles(prefix: string) {
    return (request: IncomingMessage, response: ServerResponse) => {
      const name = (request.url ?? "").replace(`${prefix}/download/v${version}/`, "");
      const data = files.get(name);
      if (data === undefined) {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200, { "content-length": data.length }).end(data);
    };
  }

  beforeAll(async () => {
    const data = tarGz([{ name: "ironclaw", data: `#!/bin/sh\necho ${version}\n` }]);
    files.set(archive, data);
    files.set("SHA256SUMS", Buffer.from(sha256Line(archive, data)));
    const key = join(work, "tls.key");
    certificate = join(work, "tls.crt");
    const made = spawnSync("openssl", [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-keyout",
      key,
      "-out",
      certificate,
    ]);
    expect(made.status, made.stderr.toString()).toBe(0);
    plain = createHttpServer((request, response) => {
      plainRequests++;
      serveFiles("")(request, response);
    });
    await new Promise<void>((resolve) => plain.listen(0, "127.0.0.1", resolve));
    const plainPort = (plain.address() as AddressInfo).port;
    const ok = serveFiles("/ok");
    secure = createHttpsServer(
      { key: readFileSync(key), cert: readFileSync(certificate) },
      (request, response) => {
        if (request.url?.startsWith("/plain/")) {
          const path = request.url.slice("/plain".length);
          response.writeHead(302, { location: `http://127.0.0.1:${plainPort}${path}` }).end();
        } else ok(request, response);
      },
    );
    await new Promise<void>((resolve) => secure.listen(0, "127.0.0.1", resolve));
    secureUrl = `https://127.0.0.1:${(secure.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => secure.close(() => resolve()));
    await new Promise<void>((resolve) => plain.close(() => resolve()));
  });

  async function installOver(base: string, downloader: "curl" | "wget", trustCertificate = true) {
    const sandbox = new Sandbox(work);
    // curl reads CURL_CA_BUNDLE; GNU Wget reads ca_certificate from ~/.wgetrc.
    if (trustCertificate) writeFileSync(join(sandbox.home, ".wgetrc"), `ca_certificate = ${certificate}\n`);
    const path = toolDir(work, [...BASE_TOOLS, downloader, "sha256sum"]);
    const env = sandbox.env(path, {
      IRONCLAW_BASE_URL: base,
      IRONCLAW_VERSION: version,
      IRONCLAW_NO_MODIFY_PATH: "1",
      ...(trustCertificate ? { CURL_CA_BUNDLE: certificate } : {}),
    });
    const result = await runInstaller(SHELLS[0], { env, cwd: sandbox.cwd });
    const left = { tmp: sandbox.leftInTmp(), installed: sandbox.installed() };
    sandbox.remove();
    return { ...result, left };
  }

  it.each(["curl", "wget"] as const)(
    "installs over https with %s, checking the server's certificate",
    async (tool) => {
      const outcome = await installOver(`${secureUrl}/ok`, tool);
      expect(outcome.code, outcome.stderr).toBe(0);
      expect(outcome.stdout).toContain(`Checksum OK: ${archive}`);
      expect(outcome.left.installed).toContain("bin/ironclaw");

      const untrusted = await installOver(`${secureUrl}/ok`, tool, false);
      expect(untrusted.code).toBe(3);
      expect(untrusted.stderr).toContain(
        `could not download ${secureUrl}/ok/download/v${version}/SHA256SUMS`,
      );
      expect(untrusted.left).toEqual({ tmp: [], installed: [] });
    },
  );

  it("curl never follows an https:// release to http:// (--proto =https), and the installer says why", async () => {
    const before = plainRequests;
    const outcome = await installOver(`${secureUrl}/plain`, "curl");
    expect(outcome.code).toBe(3);
    expect(outcome.stderr).toContain(
      `could not download ${secureUrl}/plain/download/v${version}/SHA256SUMS: the server redirected to a plain http:// URL, which the installer refuses`,
    );
    expect(plainRequests - before).toBe(0);
    expect(outcome.left).toEqual({ tmp: [], installed: [] });
  });

  it("GNU Wget never follows an https:// release to http:// either: the Location is refused before it is fetched", async () => {
    const before = plainRequests;
    const outcome = await installOver(`${secureUrl}/plain`, "wget");
    expect(outcome.code).toBe(3);
    expect(outcome.stderr).toContain(
      `could not download ${secureUrl}/plain/download/v${version}/SHA256SUMS: the server redirected to a plain http:// URL, which the installer refuses`,
    );
    expect(plainRequests - before).toBe(0);
    expect(outcome.left).toEqual({ tmp: [], installed: [] });
  });
});
