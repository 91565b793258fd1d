/** True for `application/json`, optionally with `charset=utf-8` (any case, quoted or not), and nothing else. */
export function isJsonMediaType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const [type, ...parameters] = header.split(";");
  if (type?.trim().toLowerCase() !== "application/json") return false;
  if (parameters.length > 1) return false;
  if (parameters.length === 0) return true;
  const parameter = /^\s*charset\s*=\s*(?:"utf-8"|utf-8)\s*$/i;
  return parameter.test(parameters[0] ?? "");
}
