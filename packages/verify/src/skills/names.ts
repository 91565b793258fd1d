/** A skill's name: the same rule in SKILL.md, in a `skills` change and in the agent's view. */
export const SKILL_NAME = /^[a-z][a-z0-9_-]{0,63}$/;

/** An exact semantic version: what is approved is what is loaded, no ranges. */
export const SKILL_VERSION =
  /^(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

/** A tool a skill says it needs: a compiled-in tool or an MCP tool (mcp__server__tool). */
export const SKILL_TOOL = /^[a-z][a-z0-9_]{0,127}$/;

/**
 * Why `name` cannot name a skill, or undefined. Names that are Object.prototype properties
 * (`constructor`, `__proto__`, `toString`…) are refused outright: a skill name becomes a key in the
 * agent's view and in every client that reads it, and no real skill needs one.
 */
export function skillNameProblem(name: string): string | undefined {
  if (!SKILL_NAME.test(name)) {
    return `skill name ${JSON.stringify(name)} is not a-z, 0-9, '_' and '-', starting with a letter, at most 64 characters`;
  }
  if (name in Object.prototype) {
    return `skill name ${JSON.stringify(name)} is an Object.prototype property name; choose another`;
  }
  return undefined;
}
