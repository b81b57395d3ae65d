/**
 * Configuration: `warmdesk.yaml` (path from WARMDESK_CONFIG) overlaid by environment variables.
 * Env wins over the file; a missing file means defaults (API.md, "Process").
 */
import { parse as parseYaml } from "yaml";

/** OAuth2 client settings; live in warmdesk.yaml only. */
export interface OAuth2Config {
  google_client_id?: string;
  google_client_secret?: string;
  office_client_id?: string;
  office_client_secret?: string;
  google_auth_url: string;
  google_token_url: string;
  office_auth_url: string;
  office_token_url: string;
}

export interface Config {
  port: number;
  kv_path: string;
  admin_email?: string;
  admin_password?: string;
  base_url: string;
  secret_key?: string;
  max_message_bytes: number;
  oauth2: OAuth2Config;
  /** Where the config came from, for the boot log. */
  source: string;
}

export const DEFAULT_MAX_MESSAGE_BYTES = 26_214_400;
export const OAUTH2_DEFAULTS = {
  google_auth_url: "https://accounts.google.com/o/oauth2/v2/auth",
  google_token_url: "https://oauth2.googleapis.com/token",
  office_auth_url: "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
  office_token_url: "https://login.microsoftonline.com/common/oauth2/v2.0/token",
} as const;

/** A configuration problem found at boot: the process refuses to start with a clear message. */
export class ConfigError extends Error {}

function str(v: unknown, key: string): string | undefined {
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v === "string") return v;
  if (typeof v === "number") return String(v);
  throw new ConfigError(`${key} must be a string`);
}

function int(v: unknown, key: string, min: number, max: number): number | undefined {
  if (v === undefined || v === null || v === "") return undefined;
  const n = typeof v === "number" ? v : Number(String(v).trim());
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${key} must be an integer between ${min} and ${max}`);
  }
  return n;
}

/**
 * Build the configuration from a parsed YAML object and an env lookup. Pure, for tests.
 */
export function buildConfig(
  file: Record<string, unknown>,
  env: (k: string) => string | undefined,
  source = "defaults",
): Config {
  const port = int(env("PORT"), "PORT", 0, 65535) ?? int(file.port, "port", 0, 65535) ?? 8000;
  const o = (file.oauth2 ?? {}) as Record<string, unknown>;
  if (typeof o !== "object" || Array.isArray(o)) throw new ConfigError("oauth2 must be a mapping");
  const oauth2: OAuth2Config = {
    google_client_id: str(o.google_client_id, "oauth2.google_client_id"),
    google_client_secret: str(o.google_client_secret, "oauth2.google_client_secret"),
    office_client_id: str(o.office_client_id, "oauth2.office_client_id"),
    office_client_secret: str(o.office_client_secret, "oauth2.office_client_secret"),
    google_auth_url: str(o.google_auth_url, "oauth2.google_auth_url") ??
      OAUTH2_DEFAULTS.google_auth_url,
    google_token_url: str(o.google_token_url, "oauth2.google_token_url") ??
      OAUTH2_DEFAULTS.google_token_url,
    office_auth_url: str(o.office_auth_url, "oauth2.office_auth_url") ??
      OAUTH2_DEFAULTS.office_auth_url,
    office_token_url: str(o.office_token_url, "oauth2.office_token_url") ??
      OAUTH2_DEFAULTS.office_token_url,
  };
  const base = env("WARMDESK_BASE_URL") ?? str(file.base_url, "base_url") ??
    `http://localhost:${port}`;
  try {
    new URL(base);
  } catch {
    throw new ConfigError(`base_url is not a URL: ${base}`);
  }
  return {
    port,
    kv_path: env("WARMDESK_KV_PATH") ?? str(file.kv_path, "kv_path") ?? "./data/warmdesk.kv",
    admin_email: env("WARMDESK_ADMIN_EMAIL") ?? str(file.admin_email, "admin_email"),
    admin_password: env("WARMDESK_ADMIN_PASSWORD") ?? str(file.admin_password, "admin_password"),
    base_url: base.replace(/\/+$/, ""),
    secret_key: env("WARMDESK_SECRET") ?? str(file.secret_key, "secret_key"),
    max_message_bytes:
      int(env("WARMDESK_MAX_MESSAGE_BYTES"), "WARMDESK_MAX_MESSAGE_BYTES", 1024, 2 ** 31) ??
        int(file.max_message_bytes, "max_message_bytes", 1024, 2 ** 31) ??
        DEFAULT_MAX_MESSAGE_BYTES,
    oauth2,
    source,
  };
}

/** Read `warmdesk.yaml` (or WARMDESK_CONFIG) and the environment. */
export async function loadConfig(
  env: (k: string) => string | undefined = (k) => Deno.env.get(k),
): Promise<Config> {
  const path = env("WARMDESK_CONFIG") || "./warmdesk.yaml";
  let text: string | null = null;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    if (env("WARMDESK_CONFIG")) throw new ConfigError(`config file not found: ${path}`);
  }
  let file: Record<string, unknown> = {};
  if (text !== null) {
    let parsed: unknown;
    try {
      parsed = parseYaml(text);
    } catch (e) {
      throw new ConfigError(`${path} is not valid YAML: ${(e as Error).message}`);
    }
    if (parsed !== null && parsed !== undefined) {
      if (typeof parsed !== "object" || Array.isArray(parsed)) {
        throw new ConfigError(`${path} must be a mapping`);
      }
      file = parsed as Record<string, unknown>;
    }
  }
  return buildConfig(file, env, text === null ? "defaults" : path);
}

/** Which OAuth2 keys are missing for a provider (empty when it is configured). */
export function missingOAuth2Keys(c: OAuth2Config, provider: "google" | "office365"): string[] {
  const p = provider === "google" ? "google" : "office";
  const keys = [`${p}_client_id`, `${p}_client_secret`] as const;
  return keys.filter((k) => !c[k as keyof OAuth2Config]).map((k) => `oauth2.${k}`);
}
