import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ACTION_BUNDLE_NAME, ACTION_NODE_TARGET } from "../src/bundle.js";
import { INPUT_NAMES } from "../src/inputs.js";
import { OUTPUT_NAMES } from "../src/report.js";

interface ActionMetadata {
  name?: unknown;
  description?: unknown;
  inputs?: Record<string, { description?: unknown; required?: unknown; default?: unknown }>;
  outputs?: Record<string, { description?: unknown }>;
  runs?: { using?: unknown; main?: unknown };
}

const metadata = parse(readFileSync(new URL("../action.yml", import.meta.url), "utf8")) as ActionMetadata;

describe("action.yml", () => {
  it("declares exactly the inputs the code reads, each optional and described", () => {
    expect(Object.keys(metadata.inputs ?? {}).sort()).toEqual([...INPUT_NAMES].sort());
    for (const [name, input] of Object.entries(metadata.inputs ?? {})) {
      expect(input.required, name).toBe(false);
      expect(typeof input.description, name).toBe("string");
    }
  });

  it("leaves the repository's default to the code, the one place that names the official repository", () => {
    expect(metadata.inputs?.repository).not.toHaveProperty("default");
    expect(metadata.inputs?.directory?.default).toBe(".");
  });

  it("declares exactly the outputs the code sets, each described", () => {
    expect(Object.keys(metadata.outputs ?? {}).sort()).toEqual([...OUTPUT_NAMES].sort());
    for (const [name, output] of Object.entries(metadata.outputs ?? {})) {
      expect(typeof output.description, name).toBe("string");
    }
  });

  it("runs the bundle on the Node.js the bundle is built for", () => {
    expect(metadata.runs).toEqual({ using: "node20", main: `dist/${ACTION_BUNDLE_NAME}` });
    expect(ACTION_NODE_TARGET).toBe(metadata.runs?.using);
    expect(typeof metadata.name).toBe("string");
    expect(typeof metadata.description).toBe("string");
  });
});
