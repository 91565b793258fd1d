import { OFFICIAL_REPOSITORY } from "@ironclaw/verify/release";
import { describe, expect, it } from "vitest";
import { INPUT_NAMES, InputError, type InputName, readInputs } from "../src/inputs.js";

const from =
  (values: Partial<Record<InputName, string>>) =>
  (name: InputName): string =>
    values[name] ?? "";

describe("readInputs", () => {
  it("defaults to the current directory, the official repository, any tag and every listed file", () => {
    expect(readInputs(from({}))).toEqual({ directory: ".", repository: OFFICIAL_REPOSITORY });
  });

  it("reads every input it declares, and only those", () => {
    const read: string[] = [];
    readInputs((name) => {
      read.push(name);
      return "";
    });
    expect([...read].sort()).toEqual([...INPUT_NAMES].sort());
  });

  it("passes every input through", () => {
    expect(
      readInputs(
        from({
          directory: "dl",
          repository: "acme/iron.claw_2",
          tag: "v1.2.3-rc.1",
          "signer-workflow": "acme/iron.claw_2/.github/workflows/release.yml",
          "trusted-root": "root.json",
          artifacts: "a.tar.gz\r\n\n  sub/b.zip  \n",
        }),
      ),
    ).toEqual({
      directory: "dl",
      repository: "acme/iron.claw_2",
      tag: "v1.2.3-rc.1",
      signerWorkflow: "acme/iron.claw_2/.github/workflows/release.yml",
      trustedRoot: "root.json",
      artifacts: ["a.tar.gz", "sub/b.zip"],
    });
  });

  it("treats an artifacts input of blank lines as not given", () => {
    expect(readInputs(from({ artifacts: "\n \n" })).artifacts).toBeUndefined();
  });

  it.each([
    ["acme"],
    ["acme/"],
    ["/ironclaw"],
    ["acme/iron claw"],
    ["acme/ironclaw/extra"],
    ["https://github.com/acme/ironclaw"],
    ["acme/.."],
    ["-acme/ironclaw"],
  ])("refuses the repository %j", (repository) => {
    expect(() => readInputs(from({ repository }))).toThrow(
      new InputError(
        `input repository is ${JSON.stringify(repository)}; expected OWNER/REPO such as ${OFFICIAL_REPOSITORY}. Fix it in the step's with:, or leave it out for the official repository`,
      ),
    );
  });

  it.each([["1.2.3"], ["v1.2"], ["v1.2.3 "], ["refs/tags/v1.2.3"], ["latest"]])(
    "refuses the tag %j",
    (tag) => {
      expect(() => readInputs(from({ tag }))).toThrow(
        /^input tag is .*; expected a release tag vX\.Y\.Z such as v1\.2\.3/,
      );
    },
  );

  it.each([
    ["acme/ironclaw"],
    ["acme/ironclaw/.github/workflows/release.yml@refs/tags/v1.2.3"],
    ["https://github.com/acme/ironclaw/.github/workflows/release.yml"],
  ])("refuses the signer workflow %j", (workflow) => {
    expect(() => readInputs(from({ repository: "acme/ironclaw", "signer-workflow": workflow }))).toThrow(
      /^input signer-workflow is .*; expected OWNER\/REPO\/PATH without a ref, such as acme\/ironclaw\/\.github\/workflows\/release\.yml$/,
    );
  });

  it.each([
    ["../SHA256SUMS", "IC_CHECKSUMS_NAME_TRAVERSAL"],
    ["/etc/passwd", "IC_CHECKSUMS_NAME_ABSOLUTE"],
    ["./a.tar.gz", "IC_CHECKSUMS_NAME_NOT_CANONICAL"],
    ["a\\b", "IC_CHECKSUMS_NAME_BACKSLASH"],
  ])("refuses the artifact %j (%s): it could not be a SHA256SUMS name", (name, code) => {
    expect(() => readInputs(from({ artifacts: `ok.tar.gz\n${name}` }))).toThrow(
      new RegExp(`^input artifacts lists ${JSON.stringify(name).replace(/[.\\/]/g, "\\$&")}: ${code}: `),
    );
  });

  it("refuses an artifact listed twice", () => {
    expect(() => readInputs(from({ artifacts: "a.tar.gz\nb.zip\na.tar.gz" }))).toThrow(
      new InputError('input artifacts lists "a.tar.gz" twice; list each file once'),
    );
  });
});
