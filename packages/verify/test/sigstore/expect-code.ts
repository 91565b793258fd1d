import { VerifyError, type VerifyErrorCode } from "@ironclaw/verify";
import { expect } from "vitest";

/** Runs `action`, demands a VerifyError with `code`, and returns it for further checks. */
export function expectVerifyError(action: () => unknown, code: VerifyErrorCode): VerifyError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(VerifyError);
    expect((error as VerifyError).code).toBe(code);
    return error as VerifyError;
  }
  throw new Error(`expected ${code}, but nothing was thrown`);
}

/** A JSON document that tests edit freely to build the bad inputs a verifier must refuse. */
// biome-ignore lint/suspicious/noExplicitAny: tests reach into arbitrary JSON to break it on purpose.
export type EditableJson = Record<string, any>;
