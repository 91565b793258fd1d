/** A JSON object as JSON.parse makes it: own enumerable keys only, values JSON. */
export type JsonObject = { readonly [key: string]: JsonValue };
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | JsonObject;

export interface JsonBounds {
  /** Nesting levels below the top object. */
  readonly maxDepth: number;
  /** Values in all, containers included. */
  readonly maxNodes: number;
}

/**
 * Why `value` is not a bounded JSON object, or undefined. It is checked in place, never copied, so a
 * key like "__proto__" stays an ordinary own key (copying it with `obj[key] = v` would set a prototype).
 */
export function jsonObjectProblem(value: unknown, bounds: JsonBounds): string | undefined {
  if (!isPlainObject(value)) return "expected a JSON object";
  let nodes = 0;
  const visit = (node: unknown, depth: number): string | undefined => {
    nodes += 1;
    if (nodes > bounds.maxNodes) return `expected at most ${bounds.maxNodes} JSON values`;
    if (depth > bounds.maxDepth) return `expected at most ${bounds.maxDepth} levels of nesting`;
    if (node === null || typeof node === "boolean" || typeof node === "string") return undefined;
    if (typeof node === "number") return Number.isFinite(node) ? undefined : "expected finite numbers";
    if (Array.isArray(node)) {
      for (const item of node) {
        const problem = visit(item, depth + 1);
        if (problem !== undefined) return problem;
      }
      return undefined;
    }
    if (!isPlainObject(node)) return "expected only JSON values";
    for (const key of Object.keys(node)) {
      const problem = visit((node as Record<string, unknown>)[key], depth + 1);
      if (problem !== undefined) return problem;
    }
    return undefined;
  };
  return visit(value, 0);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
