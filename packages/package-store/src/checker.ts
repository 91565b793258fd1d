import { isPackageStoreError } from "./errors.js";
import type { PackageSpec } from "./spec.js";
import type { PackageStore } from "./store.js";

/** The gateway's PackageVerdict, restated so this package does not import the gateway. */
export type PackageCheckVerdict =
  | { readonly ok: true; readonly attested: boolean }
  | { readonly ok: false; readonly code: string; readonly reason: string };

/**
 * The gateway edge's checker (its `packages` option): installs each package, so by the time a human
 * sees the change its bytes are verified and in the store; a refusal becomes the verdict's reason.
 * The store is content-addressed and nothing runs from it without an approved change naming its
 * integrity, so a refused or never-approved change leaves nothing usable behind.
 */
export function packageChecker(store: PackageStore): {
  check(request: PackageSpec): Promise<PackageCheckVerdict>;
} {
  return {
    async check(request) {
      try {
        const installed = await store.install(request);
        return { ok: true, attested: installed.provenance !== null };
      } catch (error) {
        if (!isPackageStoreError(error)) throw error;
        return { ok: false, code: error.code, reason: error.message };
      }
    },
  };
}
