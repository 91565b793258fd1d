import { VerifyError } from "../errors.js";
import { SKILL_TOOL, SKILL_VERSION, skillNameProblem } from "./names.js";
import { hiddenCharacterIn } from "./text.js";

/** What SKILL.md says: its front matter, and the instructions after it. */
export interface SkillManifest {
  readonly name: string;
  readonly description: string;
  readonly version: string;
  /** The tools the instructions use. Needing a tool grants nothing: it is enabled by its own change. */
  readonly tools: readonly string[];
  readonly instructions: string;
}

const KEYS = new Set(["name", "description", "version", "tools"]);
const MAX_DESCRIPTION = 1024;
const MAX_INSTRUCTIONS = 32 * 1024;
const MAX_TOOLS = 64;

function invalid(message: string): VerifyError {
  return new VerifyError(
    "IC_SKILL_MANIFEST_INVALID",
    `SKILL.md: ${message}. Expected front matter between two '---' lines with name, description, version and tools, then the instructions`,
  );
}

/** A plain scalar, or a double-quoted one read as JSON: the subset of YAML front matter we accept. */
function scalar(raw: string, key: string): string {
  const value = raw.trim();
  if (value.startsWith('"')) {
    try {
      const parsed: unknown = JSON.parse(value);
      if (typeof parsed === "string") return parsed;
    } catch {
      // fall through to the refusal
    }
    throw invalid(`${key}: ${value.slice(0, 40)} is not a well-formed double-quoted string`);
  }
  if (/^['[{&*!|>%@`]/.test(value) || value.includes(" #")) {
    throw invalid(
      `${key}: write the value plainly or in double quotes (quoted with ', or YAML syntax, is not read)`,
    );
  }
  return value;
}

function flowList(raw: string, key: string): string[] {
  const value = raw.trim();
  if (!value.startsWith("[") || !value.endsWith("]"))
    throw invalid(`${key}: expected a list such as [read_file, list_files]`);
  const inner = value.slice(1, -1).trim();
  return inner === "" ? [] : inner.split(",").map((item) => scalar(item, key));
}

/**
 * Parses SKILL.md strictly: LF line ends, front matter first, known keys once each, every text visible.
 * Hand-written rather than a YAML library: the verify package takes no parser that could read more
 * (anchors, tags, merge keys) than this format needs.
 */
export function parseSkillManifest(text: string): SkillManifest {
  if (text.includes("\r")) throw invalid("carriage returns are not allowed; use LF line ends");
  const hidden = hiddenCharacterIn(text);
  if (hidden !== undefined) throw invalid(`contains the invisible or control character ${hidden}`);
  const lines = text.split("\n");
  if (lines[0] !== "---") throw invalid("there is no front matter: the first line must be '---'");
  const end = lines.indexOf("---", 1);
  if (end === -1) throw invalid("the front matter is not closed by a '---' line");
  const fields = new Map<string, string | string[]>();
  let listKey: string | undefined;
  for (const line of lines.slice(1, end)) {
    if (line.trim() === "" || line.trimStart().startsWith("#")) continue;
    const item = /^\s+-\s+(.*)$/.exec(line);
    if (item !== null) {
      const list = listKey === undefined ? undefined : fields.get(listKey);
      if (!Array.isArray(list)) throw invalid(`a list item outside a list: ${line.slice(0, 40)}`);
      list.push(scalar(item[1] as string, listKey as string));
      continue;
    }
    const match = /^([A-Za-z_][A-Za-z0-9_-]*):(.*)$/.exec(line);
    if (match === null)
      throw invalid(`cannot read the front matter line ${JSON.stringify(line.slice(0, 60))}`);
    const [, key = "", rest = ""] = match;
    if (!KEYS.has(key)) throw invalid(`unknown key ${JSON.stringify(key)} (known: ${[...KEYS].join(", ")})`);
    if (fields.has(key)) throw invalid(`${key} is given twice`);
    listKey = undefined;
    if (key === "tools") {
      if (rest.trim() === "") {
        fields.set(key, []);
        listKey = key;
      } else fields.set(key, flowList(rest, key));
    } else fields.set(key, scalar(rest, key));
  }
  const text_ = (key: string): string => {
    const value = fields.get(key);
    if (typeof value !== "string" || value === "") throw invalid(`${key} is missing`);
    return value;
  };
  const name = text_("name");
  const nameProblem = skillNameProblem(name);
  if (nameProblem !== undefined) throw new VerifyError("IC_SKILL_NAME_INVALID", `SKILL.md: ${nameProblem}`);
  const version = text_("version");
  if (!SKILL_VERSION.test(version))
    throw invalid(`version ${JSON.stringify(version)} is not an exact version such as 1.2.3`);
  const description = text_("description");
  if (description.length > MAX_DESCRIPTION)
    throw invalid(`the description is longer than ${MAX_DESCRIPTION} characters`);
  const tools = fields.get("tools") ?? [];
  if (!Array.isArray(tools)) throw invalid("tools must be a list");
  if (tools.length > MAX_TOOLS) throw invalid(`more than ${MAX_TOOLS} tools`);
  for (const tool of tools) {
    if (!SKILL_TOOL.test(tool))
      throw invalid(`tool ${JSON.stringify(tool)} is not a tool name (a-z, 0-9, '_')`);
  }
  if (new Set(tools).size !== tools.length) throw invalid("a tool is listed twice");
  const instructions = lines
    .slice(end + 1)
    .join("\n")
    .trim();
  if (instructions === "") throw invalid("there are no instructions after the front matter");
  if (instructions.length > MAX_INSTRUCTIONS)
    throw invalid(`the instructions are longer than ${MAX_INSTRUCTIONS} characters`);
  return { name, description, version, tools: [...tools].sort(), instructions };
}
