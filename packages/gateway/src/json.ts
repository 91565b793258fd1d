/** JSON values as the gateway stores them: no floats, no undefined, nothing JSON cannot round-trip. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };
export type JsonObject = { readonly [key: string]: JsonValue };
