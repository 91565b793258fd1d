import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { unzipSync } from "fflate";
import { afterAll, describe, expect, it } from "vitest";
import { crc32 } from "../src/crc32.js";
import { gzipDeterministic } from "../src/gzip.js";
import { createTarGz } from "../src/tar-gz.js";
import { createZip, dosDateTime } from "../src/zip.js";

const EPOCH = 1_700_000_000; // 2023-11-14T22:13:20Z
const entries = [
  { name: "README.md", data: Buffer.from("# read me\n"), executable: false },
  { name: "ironclaw", data: Buffer.from("#!/bin/sh\necho hi\n"), executable: true },
  { name: "LICENSE", data: Buffer.from("Apache-2.0\n"), executable: false },
];
const work = mkdtempSync(join(tmpdir(), "ironclaw-archives-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs a snippet of this module's code in a child with another TZ and umask, returning its output as hex. */
function inOtherEnvironment(snippet: string): string {
  const modules = new URL("../src/", import.meta.url).pathname;
  const script = `
    import { createTarGz } from "${modules}../dist/tar-gz.js";
    import { createZip } from "${modules}../dist/zip.js";
    const entries = ${JSON.stringify(entries.map((e) => ({ ...e, data: e.data.toString() })))}.map((e) => ({ ...e, data: Buffer.from(e.data) }));
    const bytes = await (${snippet});
    process.stdout.write(Buffer.from(bytes).toString("hex"));`;
  const child = spawnSync(
    "sh",
    ["-c", `umask 077 && exec "$0" --input-type=module -e "$1"`, process.execPath, script],
    {
      env: { PATH: process.env.PATH, TZ: "Pacific/Kiritimati", LANG: "tr_TR.UTF-8", HOME: work },
      encoding: "utf8",
    },
  );
  expect(child.stderr).toBe("");
  return child.stdout;
}

describe("crc32", () => {
  it("matches the standard check value and the empty input", () => {
    expect(crc32(Buffer.from("123456789")).toString(16)).toBe("cbf43926");
    expect(crc32(new Uint8Array())).toBe(0);
  });
});

describe("gzipDeterministic", () => {
  it("round-trips through zlib, with MTIME 0, no name and OS byte 255", () => {
    const data = Buffer.from(`${"x".repeat(10_000)}tail`);
    const gz = gzipDeterministic(data);
    expect(gunzipSync(gz).equals(data)).toBe(true);
    expect(Buffer.from(gz.subarray(0, 10)).toString("hex")).toBe("1f8b08000000000002ff");
    expect(Buffer.from(gzipDeterministic(data)).equals(Buffer.from(gz))).toBe(true);
  });
});

describe("createTarGz", () => {
  it("sorts entries, fixes mtime, owner and modes, and is readable by tar", async () => {
    const path = join(work, "a.tar.gz");
    writeFileSync(path, await createTarGz(entries, EPOCH));
    const listing = spawnSync("python3", [
      "-c",
      "import sys,tarfile\nfor m in tarfile.open(sys.argv[1]).getmembers(): print(m.name, oct(m.mode), m.uid, m.gid, repr(m.uname), repr(m.gname), m.mtime)",
      path,
    ]);
    expect(listing.stdout.toString()).toBe(
      [
        `LICENSE 0o644 0 0 '' '' ${EPOCH}`,
        `README.md 0o644 0 0 '' '' ${EPOCH}`,
        `ironclaw 0o755 0 0 '' '' ${EPOCH}`,
        "",
      ].join("\n"),
    );
  });

  it("gives the same bytes under another time zone, locale and umask", async () => {
    const here = Buffer.from(await createTarGz(entries, EPOCH)).toString("hex");
    expect(inOtherEnvironment(`createTarGz(entries, ${EPOCH})`)).toBe(here);
  });

  it("changes when the time changes", async () => {
    expect(
      Buffer.from(await createTarGz(entries, EPOCH)).equals(
        Buffer.from(await createTarGz(entries, EPOCH + 1)),
      ),
    ).toBe(false);
  });
});

describe("createZip", () => {
  it("writes DOS times from UTC", () => {
    // 2023-11-14T22:13:20Z: 22:13:20 and 2023-11-14, whatever the local zone.
    expect(dosDateTime(EPOCH)).toEqual({
      date: ((2023 - 1980) << 9) | (11 << 5) | 14,
      time: (22 << 11) | (13 << 5) | 10,
    });
    expect(dosDateTime(0)).toEqual({ date: (1 << 5) | 1, time: 0 });
  });

  it("is readable by Python's zipfile with sorted names, UTC times and Unix modes", () => {
    const path = join(work, "a.zip");
    writeFileSync(path, createZip(entries, EPOCH));
    const listing = spawnSync("python3", [
      "-c",
      "import sys,zipfile\nfor i in zipfile.ZipFile(sys.argv[1]).infolist(): print(i.filename, i.date_time, oct(i.external_attr >> 16))",
      path,
    ]);
    expect(listing.stdout.toString()).toBe(
      [
        "LICENSE (2023, 11, 14, 22, 13, 20) 0o100644",
        "README.md (2023, 11, 14, 22, 13, 20) 0o100644",
        "ironclaw (2023, 11, 14, 22, 13, 20) 0o100755",
        "",
      ].join("\n"),
    );
    const unzipped = unzipSync(readFileSync(path));
    expect(Buffer.from(unzipped.ironclaw ?? []).toString()).toBe("#!/bin/sh\necho hi\n");
  });

  it("gives the same bytes under another time zone, locale and umask", () => {
    const here = Buffer.from(createZip(entries, EPOCH)).toString("hex");
    expect(inOtherEnvironment(`createZip(entries, ${EPOCH})`)).toBe(here);
  });
});
