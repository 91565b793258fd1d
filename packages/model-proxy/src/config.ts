import { lstat } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import * as z from "zod/mini";
import { ANTHROPIC_DEFAULT_BASE_URL, anthropicProvider } from "./anthropic.js";
import { ModelError } from "./errors.js";
import { readBoundedFile } from "./files.js";
import { baseUrlProblem, DEFAULT_HTTP_LIMITS, type HttpLimits } from "./http-client.js";
import { MOCK_RULES_SCHEMA, mockProvider } from "./mock.js";
import { OPENAI_DEFAULT_BASE_URL, openAiProvider } from "./openai.js";
import type { ModelProvider, ModelProviders } from "./provider.js";

/** The same spellings the gateway's `model` change accepts. */
export const PROVIDER_NAME = /^[a-z][a-z0-9_-]{0,31}$/;
export const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,127}$/;
/** The built-in offline provider: always there, never redefined by the file. */
export const MOCK_PROVIDER = "mock";
export const PROVIDERS_FILE = "model-providers.json";

const FILE_MAX_BYTES = 256 * 1024;
const KEY_FILE_MAX_BYTES = 4096;
/** Header-safe and JSON-neutral: a key can be found, and removed, in any text the proxy writes. */
const API_KEY = /^[A-Za-z0-9._~+/=:-]{8,1024}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

const providerName = z.string().check(z.regex(PROVIDER_NAME, "a provider name: a-z, 0-9, '_' and '-', ≤ 32"));
const models = z.optional(
  z.nullable(
    z
      .array(z.string().check(z.regex(MODEL_NAME, "a model name: A-Z, a-z, 0-9 and ._:/@-, ≤ 128")))
      .check(z.minLength(1), z.maxLength(64)),
  ),
);
const keySource = {
  apiKeyEnv: z.optional(z.string().check(z.regex(ENV_NAME, "an environment variable name"))),
  apiKeyFile: z.optional(z.string().check(z.minLength(1), z.maxLength(4096))),
};
const httpOptions = {
  baseUrl: z.optional(z.string().check(z.maxLength(2048))),
  timeoutMs: z.optional(z.int().check(z.minimum(1), z.maximum(3_600_000))),
};

const FILE_SCHEMA = z.strictObject({
  providers: z
    .array(
      z.discriminatedUnion("type", [
        z.strictObject({
          name: providerName,
          type: z.literal("anthropic"),
          models,
          ...keySource,
          ...httpOptions,
        }),
        z.strictObject({
          name: providerName,
          type: z.literal("openai"),
          models,
          ...keySource,
          ...httpOptions,
          maxTokensField: z.optional(z.enum(["max_tokens", "max_completion_tokens"])),
        }),
        z.strictObject({ name: providerName, type: z.literal("mock"), rules: z.optional(MOCK_RULES_SCHEMA) }),
      ]),
    )
    .check(z.maxLength(32)),
});

type ProviderEntry = z.infer<typeof FILE_SCHEMA>["providers"][number];

export interface LoadModelProvidersOptions {
  readonly stateDir: string;
  /** `--model-providers <file>`; when given, it must exist. */
  readonly file?: string | undefined;
  /** Where apiKeyEnv names are looked up: the host's environment. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** HTTP bounds for every provider (tests shorten them); timeoutMs in the file sets the deadline. */
  readonly limits?: HttpLimits;
}

/**
 * The operator's providers from `<state>/model-providers.json` (or `file`), plus the built-in `mock`.
 * A missing default file means the mock alone. API keys are read now, once; they live only in each
 * provider's closure.
 */
export async function loadModelProviders(options: LoadModelProvidersOptions): Promise<ModelProviders> {
  const path = options.file ?? join(options.stateDir, PROVIDERS_FILE);
  const providers = new Map<string, ModelProvider>([[MOCK_PROVIDER, mockProvider({ name: MOCK_PROVIDER })]]);
  const raw = await readProvidersFile(path, options.file !== undefined);
  if (raw === undefined) return providers;
  const entries = parseProvidersFile(path, raw);
  for (const entry of entries) {
    if (providers.has(entry.name)) {
      const why = entry.name === MOCK_PROVIDER ? "is the built-in provider" : "is defined twice";
      throw invalid(path, `provider ${entry.name} ${why}; choose another name`);
    }
    providers.set(entry.name, await makeProvider(entry, path, options));
  }
  return providers;
}

async function readProvidersFile(path: string, required: boolean): Promise<Buffer | undefined> {
  if (!required && (await lstat(path).catch((e: NodeJS.ErrnoException) => e.code)) === "ENOENT")
    return undefined;
  return readBoundedFile(path, {
    maxBytes: FILE_MAX_BYTES,
    code: "IC_MODEL_PROVIDERS_UNREADABLE",
    noSymlink: false,
    private: false,
    what: "the model providers file",
  });
}

function parseProvidersFile(path: string, raw: Buffer): ProviderEntry[] {
  let value: unknown;
  try {
    value = JSON.parse(raw.toString("utf8"));
  } catch (cause) {
    throw invalid(path, `expected JSON (${cause instanceof Error ? cause.message : String(cause)})`);
  }
  const result = FILE_SCHEMA.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const unknown = issue?.code === "unrecognized_keys" ? ` (${issue.keys.join(", ")})` : "";
    throw invalid(path, `${issue?.path.join(".") || "file"}: ${issue?.message ?? "invalid"}${unknown}`);
  }
  return result.data.providers;
}

async function makeProvider(
  entry: ProviderEntry,
  path: string,
  options: LoadModelProvidersOptions,
): Promise<ModelProvider> {
  if (entry.type === "mock")
    return mockProvider({ name: entry.name, ...(entry.rules === undefined ? {} : { rules: entry.rules }) });
  const base = options.limits ?? DEFAULT_HTTP_LIMITS;
  const limits = entry.timeoutMs === undefined ? base : { ...base, deadlineMs: entry.timeoutMs };
  const baseUrl = parseBaseUrl(
    entry.baseUrl ?? (entry.type === "anthropic" ? ANTHROPIC_DEFAULT_BASE_URL : OPENAI_DEFAULT_BASE_URL),
    entry.name,
    path,
  );
  const apiKey = await readApiKey(entry, path, options);
  const models = entry.models ?? null;
  if (entry.type === "anthropic") {
    if (apiKey === undefined)
      throw new ModelError(
        "IC_MODEL_KEY_MISSING",
        `provider ${entry.name} in ${path}: an anthropic provider needs apiKeyEnv or apiKeyFile`,
      );
    return anthropicProvider({ name: entry.name, baseUrl, apiKey, models, limits });
  }
  return openAiProvider({
    name: entry.name,
    baseUrl,
    apiKey,
    models,
    limits,
    ...(entry.maxTokensField === undefined ? {} : { maxTokensField: entry.maxTokensField }),
  });
}

function parseBaseUrl(text: string, name: string, path: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid(path, `provider ${name}: baseUrl ${JSON.stringify(text)} is not a URL`);
  }
  const problem = baseUrlProblem(url);
  if (problem !== undefined) throw invalid(path, `provider ${name}: baseUrl: ${problem}`);
  return url;
}

async function readApiKey(
  entry: { name: string; apiKeyEnv?: string | undefined; apiKeyFile?: string | undefined },
  path: string,
  options: LoadModelProvidersOptions,
): Promise<string | undefined> {
  if (entry.apiKeyEnv !== undefined && entry.apiKeyFile !== undefined)
    throw invalid(path, `provider ${entry.name}: give apiKeyEnv or apiKeyFile, not both`);
  let key: string;
  if (entry.apiKeyEnv !== undefined) {
    // Own properties only: an env named "constructor" is not Object.prototype's.
    const value = Object.hasOwn(options.env, entry.apiKeyEnv) ? options.env[entry.apiKeyEnv] : undefined;
    if (value === undefined || value === "")
      throw new ModelError(
        "IC_MODEL_KEY_MISSING",
        `provider ${entry.name}: the environment variable ${entry.apiKeyEnv} is not set; export it before starting ironclaw`,
      );
    key = value.trim();
  } else if (entry.apiKeyFile !== undefined) {
    const file = isAbsolute(entry.apiKeyFile) ? entry.apiKeyFile : join(options.stateDir, entry.apiKeyFile);
    const bytes = await readBoundedFile(file, {
      maxBytes: KEY_FILE_MAX_BYTES,
      code: "IC_MODEL_KEY_FILE_UNSAFE",
      noSymlink: true,
      private: true,
      what: `the API key file of provider ${entry.name}`,
    });
    key = bytes.toString("utf8").trim();
  } else return undefined;
  // The key itself never appears in this message.
  if (!API_KEY.test(key))
    throw new ModelError(
      "IC_MODEL_KEY_MISSING",
      `provider ${entry.name}: expected an API key of 8 to 1024 characters from A-Z a-z 0-9 . _ ~ + / = : -`,
    );
  return key;
}

function invalid(path: string, message: string): ModelError {
  return new ModelError("IC_MODEL_PROVIDERS_INVALID", `${path}: ${message}`);
}
