/**
 * A JSON Schema subset, interpreted (never compiled to code): the keywords tool input schemas use.
 * Hand-written because the well-kept validators either generate code from the schema (Ajv: a schema
 * is code to it, and these come from a server we do not trust) or validate far more than we can test.
 * A schema with any keyword outside the subset is refused as a whole, so an approved tool never
 * runs with arguments nobody checked. `pattern` is refused too: a server's regex would run on the host.
 */
const ANNOTATIONS = new Set([
  "$schema",
  "$id",
  "$comment",
  "title",
  "description",
  "default",
  "examples",
  "deprecated",
  "readOnly",
  "writeOnly",
  "format",
  "contentMediaType",
  "contentEncoding",
]);
const ASSERTIONS = new Set([
  "type",
  "enum",
  "const",
  "properties",
  "required",
  "additionalProperties",
  "minProperties",
  "maxProperties",
  "items",
  "minItems",
  "maxItems",
  "minLength",
  "maxLength",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "anyOf",
  "allOf",
  "oneOf",
]);
const TYPES = new Set(["string", "number", "integer", "boolean", "object", "array", "null"]);
export const SCHEMA_MAX_DEPTH = 32;

type Schema = boolean | Readonly<Record<string, unknown>>;

const isRecord = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const isCount = (value: unknown): boolean => Number.isSafeInteger(value) && (value as number) >= 0;

/** Why the schema is outside the subset (with the JSON pointer of the place), or undefined. */
export function schemaProblem(schema: unknown, at = "", depth = 1): string | undefined {
  if (typeof schema === "boolean") return undefined;
  if (!isRecord(schema)) return `${at || "/"}: a schema must be an object or a boolean`;
  if (depth > SCHEMA_MAX_DEPTH) return `${at}: schemas nest at most ${SCHEMA_MAX_DEPTH} levels`;
  for (const key of Object.keys(schema)) {
    if (ANNOTATIONS.has(key)) continue;
    if (!ASSERTIONS.has(key)) return `${at}/${key}: the keyword ${JSON.stringify(key)} is not supported`;
    const value = schema[key];
    const here = `${at}/${key}`;
    const bad = (what: string) => `${here}: expected ${what}`;
    switch (key) {
      case "type": {
        const types = Array.isArray(value) ? value : [value];
        if (types.length === 0 || !types.every((t) => typeof t === "string" && TYPES.has(t)))
          return bad("a JSON type name or a list of them");
        break;
      }
      case "enum":
        if (!Array.isArray(value)) return bad("a list");
        break;
      case "required":
        if (!Array.isArray(value) || !value.every((name) => typeof name === "string"))
          return bad("a list of property names");
        break;
      case "properties": {
        if (!isRecord(value)) return bad("an object of schemas");
        for (const name of Object.keys(value)) {
          const problem = schemaProblem(value[name], `${here}/${name}`, depth + 1);
          if (problem !== undefined) return problem;
        }
        break;
      }
      case "additionalProperties":
      case "items": {
        const problem = schemaProblem(value, here, depth + 1);
        if (problem !== undefined) return problem;
        break;
      }
      case "anyOf":
      case "allOf":
      case "oneOf": {
        if (!Array.isArray(value) || value.length === 0) return bad("a non-empty list of schemas");
        for (const [index, item] of value.entries()) {
          const problem = schemaProblem(item, `${here}/${index}`, depth + 1);
          if (problem !== undefined) return problem;
        }
        break;
      }
      case "minimum":
      case "maximum":
      case "exclusiveMinimum":
      case "exclusiveMaximum":
        if (typeof value !== "number" || !Number.isFinite(value)) return bad("a number");
        break;
      case "const":
        break;
      default:
        if (!isCount(value)) return bad("a non-negative integer");
    }
  }
  return undefined;
}

/**
 * Why `value` does not satisfy `schema` (a JSON pointer and what was expected), or undefined. The
 * schema must have passed schemaProblem.
 */
export function validationProblem(schema: Schema, value: unknown, at = ""): string | undefined {
  if (schema === true) return undefined;
  if (schema === false) return `${at || "/"}: no value is allowed here`;
  const where = at || "/";
  const type = schema.type;
  if (type !== undefined) {
    const types = (Array.isArray(type) ? type : [type]) as string[];
    if (!types.some((t) => hasType(value, t))) return `${where}: expected ${types.join(" or ")}`;
  }
  if (schema.enum !== undefined && !(schema.enum as unknown[]).some((option) => equal(option, value)))
    return `${where}: expected one of the listed values`;
  if ("const" in schema && !equal(schema.const, value)) return `${where}: expected the one allowed value`;
  const problem =
    typeof value === "string"
      ? stringProblem(schema, value, where)
      : typeof value === "number"
        ? numberProblem(schema, value, where)
        : Array.isArray(value)
          ? arrayProblem(schema, value, at)
          : isRecord(value)
            ? objectProblem(schema, value, at)
            : undefined;
  if (problem !== undefined) return problem;
  return combinationProblem(schema, value, at);
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case "null":
      return value === null;
    case "boolean":
      return typeof value === "boolean";
    case "string":
      return typeof value === "string";
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "integer":
      return Number.isInteger(value);
    case "array":
      return Array.isArray(value);
    default:
      return isRecord(value);
  }
}

function stringProblem(schema: Readonly<Record<string, unknown>>, value: string, where: string) {
  // JSON Schema counts code points, not UTF-16 units.
  const length = [...value].length;
  if (typeof schema.minLength === "number" && length < schema.minLength)
    return `${where}: expected at least ${schema.minLength} characters`;
  if (typeof schema.maxLength === "number" && length > schema.maxLength)
    return `${where}: expected at most ${schema.maxLength} characters`;
  return undefined;
}

function numberProblem(schema: Readonly<Record<string, unknown>>, value: number, where: string) {
  const { minimum, maximum, exclusiveMinimum, exclusiveMaximum } = schema;
  if (typeof minimum === "number" && value < minimum) return `${where}: expected at least ${minimum}`;
  if (typeof maximum === "number" && value > maximum) return `${where}: expected at most ${maximum}`;
  if (typeof exclusiveMinimum === "number" && value <= exclusiveMinimum)
    return `${where}: expected more than ${exclusiveMinimum}`;
  if (typeof exclusiveMaximum === "number" && value >= exclusiveMaximum)
    return `${where}: expected less than ${exclusiveMaximum}`;
  return undefined;
}

function arrayProblem(schema: Readonly<Record<string, unknown>>, value: readonly unknown[], at: string) {
  if (typeof schema.minItems === "number" && value.length < schema.minItems)
    return `${at || "/"}: expected at least ${schema.minItems} items`;
  if (typeof schema.maxItems === "number" && value.length > schema.maxItems)
    return `${at || "/"}: expected at most ${schema.maxItems} items`;
  if (schema.items !== undefined) {
    for (const [index, item] of value.entries()) {
      const problem = validationProblem(schema.items as Schema, item, `${at}/${index}`);
      if (problem !== undefined) return problem;
    }
  }
  return undefined;
}

function objectProblem(
  schema: Readonly<Record<string, unknown>>,
  value: Readonly<Record<string, unknown>>,
  at: string,
) {
  const keys = Object.keys(value);
  if (typeof schema.minProperties === "number" && keys.length < schema.minProperties)
    return `${at || "/"}: expected at least ${schema.minProperties} properties`;
  if (typeof schema.maxProperties === "number" && keys.length > schema.maxProperties)
    return `${at || "/"}: expected at most ${schema.maxProperties} properties`;
  for (const name of (schema.required as string[] | undefined) ?? []) {
    if (!Object.hasOwn(value, name)) return `${at || "/"}: expected the property ${JSON.stringify(name)}`;
  }
  const properties = (schema.properties ?? {}) as Readonly<Record<string, Schema>>;
  for (const name of keys) {
    // Own keys only: a property named "constructor" is checked against its own schema or none.
    const own = Object.hasOwn(properties, name);
    const sub = own ? properties[name] : (schema.additionalProperties as Schema | undefined);
    if (sub === undefined) continue;
    const problem =
      !own && sub === false
        ? `${at}/${name}: the property ${JSON.stringify(name)} is not allowed`
        : validationProblem(sub, value[name], `${at}/${name}`);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function combinationProblem(schema: Readonly<Record<string, unknown>>, value: unknown, at: string) {
  const where = at || "/";
  for (const sub of (schema.allOf as Schema[] | undefined) ?? []) {
    const problem = validationProblem(sub, value, at);
    if (problem !== undefined) return problem;
  }
  const anyOf = schema.anyOf as Schema[] | undefined;
  if (anyOf !== undefined && !anyOf.some((sub) => validationProblem(sub, value, at) === undefined))
    return `${where}: expected a value matching one of the alternatives`;
  const oneOf = schema.oneOf as Schema[] | undefined;
  if (
    oneOf !== undefined &&
    oneOf.filter((sub) => validationProblem(sub, value, at) === undefined).length !== 1
  )
    return `${where}: expected a value matching exactly one of the alternatives`;
  return undefined;
}

/** JSON equality: same type and value, objects by own keys whatever their order. */
function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, index) => equal(item, b[index]));
  }
  if (!isRecord(a) || !isRecord(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => Object.hasOwn(b, key) && equal(a[key], b[key]));
}
