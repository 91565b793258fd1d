/**
 * The JSON Schema subset the compiled-in tools use: objects of strings and integers, with required
 * fields, bounds and no extra properties. A tool call is checked against it before it runs: what a
 * model sends is untrusted, whatever the model.
 */
export type FieldSchema =
  | { readonly type: "string"; readonly description: string; readonly maxLength: number }
  | { readonly type: "object"; readonly description: string }
  | {
      readonly type: "integer";
      readonly description: string;
      readonly minimum: number;
      readonly maximum: number;
    };

export interface ObjectSchema {
  readonly type: "object";
  readonly properties: Readonly<Record<string, FieldSchema>>;
  readonly required: readonly string[];
  readonly additionalProperties: false;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Why `input` does not fit `schema`, or undefined when it does. */
export function inputProblem(schema: ObjectSchema, input: unknown): string | undefined {
  if (!isPlainObject(input)) return "the input must be a JSON object";
  for (const name of schema.required) {
    if (!Object.hasOwn(input, name)) return `the input lacks ${name}`;
  }
  for (const [name, value] of Object.entries(input)) {
    if (!Object.hasOwn(schema.properties, name))
      return `the input has an unknown field ${JSON.stringify(name)}`;
    const field = schema.properties[name] as FieldSchema;
    if (field.type === "string") {
      if (typeof value !== "string") return `${name} must be a string`;
      if (value.length > field.maxLength) return `${name} is longer than ${field.maxLength} characters`;
    } else if (field.type === "integer") {
      if (!Number.isSafeInteger(value)) return `${name} must be an integer`;
      const n = value as number;
      if (n < field.minimum || n > field.maximum)
        return `${name} must be between ${field.minimum} and ${field.maximum}`;
    } else if (!isPlainObject(value)) return `${name} must be a JSON object`;
  }
  return undefined;
}
