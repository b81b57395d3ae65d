/**
 * Access tokens for the IMAP client: the cached one while it has more than 5 minutes left, else
 * a refresh (single flight per process; KV versionstamp checks across processes), saving a
 * rotated refresh token. A refused refresh is recorded for the settings page and health; a
 * transient failure backs off (1 min doubling to 1 h), a permanent one (invalid_grant, ...)
 * stops all attempts until a new Authorise (or a changed client config).
 */
import type { OAuth2Tokens } from "arctic";
import type { Services } from "../state.ts";
import { logger } from "../log.ts";
import {
  accountFromIdToken,
  classifyTokenError,
  clientFingerprint,
  endpoints,
  missingKeys,
  type OAuth2Provider,
  oauthClient,
  PROVIDER_LABEL,
  SCOPES,
  type TokenFailure,
} from "./oauth2_providers.ts";
import { loadRecord, type OAuth2Record, saveRecord } from "./oauth2_store.ts";
import { getImapSettings } from "./imap_settings.ts";

const log = logger("oauth2");

/** Refresh when the cached access token expires within this window. */
export const REFRESH_MARGIN_MS = 5 * 60 * 1000;
/** Backoff after a transient refresh failure: 1 min, doubling, at most an hour. */
export const BACKOFF_FIRST_MS = 60_000;
export const BACKOFF_MAX_MS = 60 * 60_000;
/** Give up on a token endpoint that does not answer. */
export const TOKEN_TIMEOUT_MS = 30_000;

/** Why no access token could be handed out; `message` is safe to show to the admin. */
export class OAuth2Error extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
    this.name = "OAuth2Error";
  }
}

/** What the IMAP client needs for XOAUTH2/OAUTHBEARER. */
export interface OAuthAccess {
  /** SASL user: the IMAP username setting (else the id token's account). */
  user: string;
  accessToken: string;
}

/** Options of {@link getAccessToken}. */
export interface AccessOptions {
  /** Refresh even if the cached token looks valid (the server just refused it). */
  forceRefresh?: boolean;
}

/** Race a provider call against {@link TOKEN_TIMEOUT_MS}. */
export async function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new OAuth2Error(`${what}: no answer within ${TOKEN_TIMEOUT_MS / 1000} s`, "timeout"),
        ),
      TOKEN_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

/** The id token of a token answer, if any. */
export function idTokenOf(tokens: OAuth2Tokens): string | null {
  const v = (tokens.data as Record<string, unknown>).id_token;
  return typeof v === "string" ? v : null;
}

/** ISO expiry of the access token of a token answer (null when the provider gave none). */
export function expiresAt(tokens: OAuth2Tokens): string | null {
  const v = (tokens.data as Record<string, unknown>).expires_in;
  return typeof v === "number" || (typeof v === "string" && /^\d+$/.test(v))
    ? new Date(Date.now() + Number(v) * 1000).toISOString()
    : null;
}

/** Backoff before the next attempt after `failures` consecutive transient failures. */
export function backoffMs(failures: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.max(0, failures - 1));
}

function validFor(rec: OAuth2Record, marginMs: number): boolean {
  return !!rec.access_sealed && !!rec.expires_at &&
    Date.parse(rec.expires_at) - Date.now() > marginMs;
}

const notConnected = () =>
  new OAuth2Error(
    "OAuth2 is chosen but no mailbox is authorised: click Authorise",
    "oauth2_not_connected",
  );

const inflight = new WeakMap<Deno.Kv, Promise<string>>();

/**
 * An access token for the IMAP login (the hook `svc.ext.oauthAccessToken`). Throws
 * {@link OAuth2Error} with a message for the admin when there is none to be had.
 */
export async function getAccessToken(
  svc: Services,
  opts: AccessOptions = {},
): Promise<OAuthAccess> {
  const [settings, entry] = await Promise.all([getImapSettings(svc), loadRecord(svc.kv)]);
  const rec = entry.value;
  if (!rec) throw notConnected();
  const provider = (settings.provider as OAuth2Provider | null) ?? rec.provider;
  if (provider !== rec.provider) {
    throw new OAuth2Error(
      `Authorised with ${PROVIDER_LABEL[rec.provider]}; click Authorise to connect ${
        PROVIDER_LABEL[provider] ?? provider
      }`,
      "oauth2_provider_changed",
    );
  }
  const user = settings.username || rec.account;
  if (!user) {
    throw new OAuth2Error("Set the IMAP username (the mailbox address)", "oauth2_no_user");
  }
  if (!opts.forceRefresh && !rec.dead && validFor(rec, REFRESH_MARGIN_MS)) {
    return { user, accessToken: await svc.vault.open(rec.access_sealed!) };
  }
  let p = inflight.get(svc.kv);
  if (!p) {
    p = refresh(svc, !!opts.forceRefresh).finally(() => inflight.delete(svc.kv));
    inflight.set(svc.kv, p);
  }
  return { user, accessToken: await p };
}

async function refresh(svc: Services, force: boolean): Promise<string> {
  for (let attempt = 0; attempt < 4; attempt++) {
    const entry = await loadRecord(svc.kv);
    const rec = entry.value;
    if (!rec) throw notConnected();
    const provider = rec.provider;
    // another process (or an earlier caller) may have refreshed meanwhile
    if (!force && !rec.dead && validFor(rec, REFRESH_MARGIN_MS)) {
      return await svc.vault.open(rec.access_sealed!);
    }
    const missing = missingKeys(svc.config, provider);
    if (missing.length) {
      throw new OAuth2Error(
        `OAuth2 for ${PROVIDER_LABEL[provider]} is not configured: add ${
          missing.join(", ")
        } to warmdesk.yaml`,
        "oauth2_not_configured",
      );
    }
    const fingerprint = clientFingerprint(svc.config, provider);
    if (rec.dead && rec.dead_fingerprint === fingerprint) {
      throw new OAuth2Error(rec.error ?? "The provider refused the grant", "oauth2_refresh_failed");
    }
    if (!rec.dead && rec.retry_at && Date.parse(rec.retry_at) > Date.now()) {
      // backing off: a token that has not quite expired is still good for this poll
      if (validFor(rec, 0)) return await svc.vault.open(rec.access_sealed!);
      throw new OAuth2Error(
        `${rec.error ?? "Token refresh failed"} (next attempt after ${rec.retry_at})`,
        "oauth2_backoff",
      );
    }
    let tokens: OAuth2Tokens;
    try {
      tokens = await withTimeout(
        oauthClient(svc.config, provider).refreshAccessToken(
          endpoints(svc.config.oauth2, provider).tokenUrl,
          await svc.vault.open(rec.refresh_sealed),
          // Microsoft wants the scopes again; Google keeps the granted ones
          provider === "office365" ? SCOPES.office365 : [],
        ),
        `${PROVIDER_LABEL[provider]} token endpoint`,
      );
    } catch (e) {
      const f: TokenFailure = e instanceof OAuth2Error
        ? { code: e.code, message: e.message, permanent: false }
        : classifyTokenError(provider, e);
      const now = await loadRecord(svc.kv);
      if (!now.value) throw notConnected();
      // a new Authorise, or another process rotated the refresh token under us: try again
      if (
        now.value.grant_id !== rec.grant_id || now.value.refresh_sealed !== rec.refresh_sealed
      ) continue;
      const failures = f.permanent ? now.value.failures : now.value.failures + 1;
      const retryAt = f.permanent ? null : new Date(Date.now() + backoffMs(failures)).toISOString();
      await saveRecord(svc.kv, now, {
        ...now.value,
        error: f.message,
        error_code: f.code,
        error_at: new Date().toISOString(),
        failures,
        retry_at: retryAt,
        dead: f.permanent,
        dead_fingerprint: f.permanent ? fingerprint : null,
      });
      log.warn("access token refresh failed", {
        provider,
        error_code: f.code,
        permanent: f.permanent,
        failures,
        retry_at: retryAt,
      });
      if (!f.permanent && validFor(now.value, 0)) return await svc.vault.open(rec.access_sealed!);
      throw new OAuth2Error(f.message, f.permanent ? "oauth2_refresh_failed" : "oauth2_backoff");
    }
    const access = tokens.accessToken();
    const rotated = tokens.hasRefreshToken();
    const next: OAuth2Record = {
      ...rec,
      access_sealed: await svc.vault.seal(access),
      expires_at: expiresAt(tokens),
      refresh_sealed: rotated ? await svc.vault.seal(tokens.refreshToken()) : rec.refresh_sealed,
      account: accountFromIdToken(provider, idTokenOf(tokens)) ?? rec.account,
      refreshed_at: new Date().toISOString(),
      error: null,
      error_code: null,
      error_at: null,
      failures: 0,
      retry_at: null,
      dead: false,
      dead_fingerprint: null,
    };
    if (await saveRecord(svc.kv, entry, next)) {
      log.info("access token refreshed", { provider, rotated, expires_at: next.expires_at });
      return access;
    }
    // changed while we were at the provider
    const cur = await loadRecord(svc.kv);
    if (!cur.value) throw notConnected(); // disconnected: do not resurrect the tokens
    if (cur.value.grant_id !== rec.grant_id) continue; // authorised anew: use that grant
    // same grant (another process refreshed too): ours are fresh and valid, keep them
    if (await saveRecord(svc.kv, cur, next)) return access;
  }
  throw new OAuth2Error("The stored tokens kept changing; try again", "oauth2_conflict");
}
