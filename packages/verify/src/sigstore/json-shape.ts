/**
 * A small strict shape checker for protobuf-JSON documents (Sigstore bundles, trusted roots).
 * protobuf's own JSON readers ignore unknown fields and coerce bad values; a verifier must not,
 * so every document is walked against its shape before it is handed to sigstore-js.
 */
export type Shape =
  | { readonly kind: "string"; readonly pattern?: RegExp; readonly describe?: string }
  | { readonly kind: "base64" }
  | { readonly kind: "uint64" }
  | { readonly kind: "enum"; readonly values: readonly string[] }
  | { readonly kind: "array"; readonly of: Shape; readonly minItems?: number }
  | {
      readonly kind: "object";
      readonly fields: Readonly<Record<string, Shape>>;
      readonly required?: readonly string[];
      /** At most one of these may be present (a protobuf oneof); with `oneOfRequired`, exactly one. */
      readonly oneOf?: readonly string[];
      readonly oneOfRequired?: boolean;
    };

export const string = (pattern?: RegExp, describe?: string): Shape =>
  pattern === undefined
    ? { kind: "string" }
    : describe === undefined
      ? { kind: "string", pattern }
      : { kind: "string", pattern, describe };
export const base64: Shape = { kind: "base64" };
export const uint64: Shape = { kind: "uint64" };
export const enumOf = (...values: string[]): Shape => ({ kind: "enum", values });
export const arrayOf = (of: Shape, minItems = 0): Shape => ({ kind: "array", of, minItems });
export const object = (
  fields: Record<string, Shape>,
  options: { required?: string[]; oneOf?: string[]; oneOfRequired?: boolean } = {},
): Shape => ({ kind: "object", fields, ...options });

/** Standard base64 with padding, or its URL-safe form, as protobuf-JSON writers emit them. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const BASE64_URL = /^[A-Za-z0-9_-]*$/;
const UINT64 = /^(0|[1-9][0-9]{0,19})$/;

/** Returns the first violation as "path: what is wrong", or undefined when the value fits. */
export function findShapeViolation(value: unknown, shape: Shape, path = "$"): string | undefined {
  switch (shape.kind) {
    case "string":
      if (typeof value !== "string") return `${path}: expected a string, found ${typeName(value)}`;
      if (shape.pattern !== undefined && !shape.pattern.test(value)) {
        return `${path}: expected ${shape.describe ?? `a string matching ${shape.pattern}`}, found ${JSON.stringify(value.slice(0, 80))}`;
      }
      return undefined;
    case "base64":
      if (typeof value !== "string") return `${path}: expected base64 text, found ${typeName(value)}`;
      return BASE64.test(value) || (BASE64_URL.test(value) && value.length % 4 !== 1)
        ? undefined
        : `${path}: expected base64, found characters or padding base64 does not allow`;
    case "uint64":
      if (typeof value === "number") {
        return Number.isSafeInteger(value) && value >= 0
          ? undefined
          : `${path}: expected a non-negative integer, found ${value}`;
      }
      if (typeof value !== "string" || !UINT64.test(value) || BigInt(value) > 0xffffffffffffffffn) {
        return `${path}: expected a non-negative 64-bit integer, found ${JSON.stringify(value)}`;
      }
      return undefined;
    case "enum":
      return typeof value === "string" && shape.values.includes(value)
        ? undefined
        : `${path}: expected one of ${shape.values.join(", ")}, found ${JSON.stringify(value)}`;
    case "array": {
      if (!Array.isArray(value)) return `${path}: expected an array, found ${typeName(value)}`;
      if (value.length < (shape.minItems ?? 0))
        return `${path}: expected at least ${shape.minItems} item(s), found ${value.length}`;
      for (const [index, item] of value.entries()) {
        const violation = findShapeViolation(item, shape.of, `${path}[${index}]`);
        if (violation !== undefined) return violation;
      }
      return undefined;
    }
    case "object":
      return findObjectViolation(value, shape, path);
  }
}

function findObjectViolation(
  value: unknown,
  shape: Extract<Shape, { kind: "object" }>,
  path: string,
): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return `${path}: expected an object, found ${typeName(value)}`;
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!Object.hasOwn(shape.fields, key)) {
      return `${path}: unknown field ${JSON.stringify(key)} (known: ${Object.keys(shape.fields).join(", ")})`;
    }
  }
  // protobuf JSON writes null for an absent field.
  const present = (key: string) => record[key] !== undefined && record[key] !== null;
  for (const key of shape.required ?? []) {
    if (!present(key)) return `${path}: missing the required field ${JSON.stringify(key)}`;
  }
  if (shape.oneOf !== undefined) {
    const given = shape.oneOf.filter(present);
    if (given.length > 1) return `${path}: only one of ${given.join(", ")} may be present`;
    if (given.length === 0 && shape.oneOfRequired === true) {
      return `${path}: expected one of ${shape.oneOf.join(", ")}`;
    }
  }
  for (const [key, fieldShape] of Object.entries(shape.fields)) {
    if (!present(key)) continue;
    const violation = findShapeViolation(record[key], fieldShape, `${path}.${key}`);
    if (violation !== undefined) return violation;
  }
  return undefined;
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}
