/**
 * OAuth2 for IMAP mailboxes (Gmail, Office 365): the Authorise flow (PKCE S256, a `state` bound
 * to the admin's session, single use, 10 minutes), token storage (only the refresh token long
 * term, sealed; the access token cached sealed with its expiry), refresh before a poll, and the
 * status the settings page and health show. No function here returns or logs a token, except
 * {@link getAccessToken}, whose caller hands it straight to the IMAP client.
 */
import { generateCodeVerifier, generateState, type OAuth2Tokens } from "arctic";
import { HttpError } from "../fw/mod.ts";
import type { Services } from "../state.ts";
import { logger } from "../log.ts";
import {
  accountFromIdToken,
  authorizationUrl,
  classifyTokenError,
  endpoints,
  missingKeys,
  OAUTH2_PROVIDERS,
  type OAuth2Provider,
  oauthClient,
  PROVIDER_LABEL,
  redirectUri,
} from "./oauth2_providers.ts";
import {
  deleteRecord,
  loadRecord,
  putRecord,
  putState,
  sha256Hex,
  STATE_TTL_MS,
  takeState,
} from "./oauth2_store.ts";
import { getImapSettings, saveImapSettings } from "./imap_settings.ts";
import { expiresAt, idTokenOf, OAuth2Error, withTimeout } from "./oauth2_refresh.ts";

const log = logger("oauth2");

/** GET /api/v1/admin/imap/oauth2/status (API.md fields first, then extras for the page). */
export interface OAuth2Status {
  provider: OAuth2Provider | null;
  connected: boolean;
  account: string | null;
  access_token_set: boolean;
  expires_at: string | null;
  error: string | null;
  /** Which providers have client id and secret in warmdesk.yaml. */
  configured: Record<OAuth2Provider, boolean>;
  /** Missing `oauth2.*` keys per provider. */
  missing_keys: Record<OAuth2Provider, string[]>;
  /** The redirect URI to register at the provider. */
  redirect_uri: string;
  connected_at: string | null;
  refreshed_at: string | null;
  /** Next refresh attempt after a transient failure. */
  retry_at: string | null;
}

/** Result of the callback, rendered by the callback page and posted to the opener. */
export type CallbackResult =
  | { ok: true; provider: OAuth2Provider; account: string | null }
  | { ok: false; error: string; provider?: OAuth2Provider };

function isProvider(v: unknown): v is OAuth2Provider {
  return OAUTH2_PROVIDERS.includes(v as OAuth2Provider);
}

/** 409 with the missing keys, thrown when a provider has no client id/secret. */
export function assertConfigured(svc: Services, provider: OAuth2Provider): void {
  const missing = missingKeys(svc.config, provider);
  if (missing.length) {
    throw new HttpError(
      409,
      `OAuth2 for ${PROVIDER_LABEL[provider]} is not configured: add ${
        missing.join(", ")
      } to warmdesk.yaml`,
      "oauth2_not_configured",
    );
  }
}

/**
 * Start an Authorise: remember a fresh `state` (bound to this session, 10 minutes, single use)
 * with its PKCE verifier, and answer the provider's consent URL.
 */
export async function startAuthorization(
  svc: Services,
  args: { provider: OAuth2Provider; sessionToken: string; userId: string },
): Promise<{ url: string }> {
  assertConfigured(svc, args.provider);
  const state = generateState();
  const verifier = generateCodeVerifier();
  const settings = await getImapSettings(svc);
  await putState(svc.kv, state, {
    provider: args.provider,
    session_hash: await sha256Hex(args.sessionToken),
    user_id: args.userId,
    verifier_sealed: await svc.vault.seal(verifier),
    created_at: new Date().toISOString(),
  });
  const url = authorizationUrl(svc.config, args.provider, state, verifier, settings.username);
  log.info("authorisation started", { provider: args.provider, user_id: args.userId });
  return { url: url.href };
}

/**
 * Finish an Authorise from the callback's query: check the state (known, unused, this session,
 * fresh), exchange the code, store the tokens, switch IMAP auth to OAuth2. Never throws.
 */
export async function completeAuthorization(
  svc: Services,
  args: { sessionToken: string | null; query: URLSearchParams },
): Promise<CallbackResult> {
  const q = args.query;
  const stateParam = q.get("state");
  if (!stateParam) {
    return fail("The answer from the provider has no state; start again with Authorise.");
  }
  const pending = await takeState(svc.kv, stateParam);
  if (!pending) {
    return fail(
      "This authorisation is unknown, expired or was already used; start again with Authorise.",
    );
  }
  const provider = pending.provider;
  const who = PROVIDER_LABEL[provider];
  if (
    !args.sessionToken || await sha256Hex(args.sessionToken) !== pending.session_hash ||
    Date.now() - Date.parse(pending.created_at) > STATE_TTL_MS
  ) {
    return fail(
      "This authorisation was started in another session or has expired; start again with Authorise.",
      provider,
    );
  }
  const providerError = q.get("error");
  if (providerError) {
    const desc = q.get("error_description");
    const reason = providerError === "access_denied"
      ? "access was not granted"
      : `${providerError}${desc ? ` (${desc.slice(0, 200)})` : ""}`;
    return fail(`${who} did not authorise the mailbox: ${reason}.`, provider);
  }
  const code = q.get("code");
  if (!code) return fail(`${who} sent no authorisation code.`, provider);
  try {
    assertConfigured(svc, provider);
  } catch (e) {
    return fail((e as Error).message, provider);
  }
  let tokens: OAuth2Tokens;
  try {
    const verifier = await svc.vault.open(pending.verifier_sealed);
    tokens = await withTimeout(
      oauthClient(svc.config, provider).validateAuthorizationCode(
        endpoints(svc.config.oauth2, provider).tokenUrl,
        code,
        verifier,
      ),
      `${who} token endpoint`,
    );
  } catch (e) {
    const f = e instanceof OAuth2Error
      ? { code: e.code, message: e.message }
      : classifyTokenError(provider, e);
    log.warn("authorisation code exchange failed", { provider, error_code: f.code });
    return fail(f.message, provider);
  }
  const refresh = tokens.hasRefreshToken() ? tokens.refreshToken() : null;
  if (!refresh) {
    return fail(
      `${who} returned no refresh token, so the mailbox could not stay connected; ` +
        "remove WarmDesk's access in the account's security settings and authorise again.",
      provider,
    );
  }
  const account = accountFromIdToken(provider, idTokenOf(tokens));
  const now = new Date().toISOString();
  await putRecord(svc.kv, {
    provider,
    grant_id: crypto.randomUUID(),
    account,
    refresh_sealed: await svc.vault.seal(refresh),
    access_sealed: await svc.vault.seal(tokens.accessToken()),
    expires_at: expiresAt(tokens),
    connected_at: now,
    refreshed_at: now,
    error: null,
    error_code: null,
    error_at: null,
    failures: 0,
    retry_at: null,
    dead: false,
    dead_fingerprint: null,
  });
  const settings = await getImapSettings(svc);
  await saveImapSettings(svc, {
    auth: "oauth2",
    provider,
    // the SASL user is the IMAP username; fill it in when the admin left it empty
    ...(!settings.username && account ? { username: account } : {}),
  });
  log.info("mailbox authorised", { provider, account });
  return { ok: true, provider, account };
}

function fail(error: string, provider?: OAuth2Provider): CallbackResult {
  log.warn("authorisation refused", { provider, reason: error });
  return { ok: false, error, ...(provider ? { provider } : {}) };
}

/** Status for the API, the settings page and health; never a token. */
export async function oauth2Status(svc: Services): Promise<OAuth2Status> {
  const [settings, entry] = await Promise.all([getImapSettings(svc), loadRecord(svc.kv)]);
  const rec = entry.value;
  const provider = (isProvider(settings.provider) ? settings.provider : null) ?? rec?.provider ??
    null;
  let error = rec?.error ?? null;
  if (rec && provider && rec.provider !== provider) {
    error = `Authorised with ${PROVIDER_LABEL[rec.provider]}; click Authorise to connect ${
      PROVIDER_LABEL[provider]
    }.`;
  }
  const valid = !!rec?.access_sealed && !!rec.expires_at && Date.parse(rec.expires_at) > Date.now();
  const configured = {} as Record<OAuth2Provider, boolean>;
  const missing = {} as Record<OAuth2Provider, string[]>;
  for (const p of OAUTH2_PROVIDERS) {
    missing[p] = missingKeys(svc.config, p);
    configured[p] = missing[p].length === 0;
  }
  return {
    provider,
    connected: !!rec && !rec.dead && rec.provider === provider,
    account: rec ? rec.account ?? (settings.username || null) : null,
    access_token_set: valid && !rec!.dead,
    expires_at: rec?.expires_at ?? null,
    error,
    configured,
    missing_keys: missing,
    redirect_uri: redirectUri(svc.config),
    connected_at: rec?.connected_at ?? null,
    refreshed_at: rec?.refreshed_at ?? null,
    retry_at: rec?.retry_at ?? null,
  };
}

/**
 * Disconnect: forget the tokens, set IMAP auth back to plain, and (Google) revoke the grant at
 * the provider, best effort. Microsoft has no revocation endpoint for refresh tokens.
 */
export async function disconnectOAuth2(svc: Services): Promise<void> {
  const entry = await loadRecord(svc.kv);
  await deleteRecord(svc.kv);
  await saveImapSettings(svc, { auth: "plain" });
  const rec = entry.value;
  if (!rec) return;
  log.info("mailbox disconnected", { provider: rec.provider, account: rec.account });
  const revokeUrl = endpoints(svc.config.oauth2, rec.provider).revokeUrl;
  if (!revokeUrl || missingKeys(svc.config, rec.provider).length) return;
  try {
    const token = await svc.vault.open(rec.refresh_sealed);
    await withTimeout(
      oauthClient(svc.config, rec.provider).revokeToken(revokeUrl, token),
      "revocation endpoint",
    );
  } catch (e) {
    log.warn("token revocation failed (tokens are forgotten here anyway)", {
      provider: rec.provider,
      error_code: e instanceof OAuth2Error ? e.code : classifyTokenError(rec.provider, e).code,
    });
  }
}

export {
  type AccessOptions,
  BACKOFF_FIRST_MS,
  BACKOFF_MAX_MS,
  getAccessToken,
  OAuth2Error,
  type OAuthAccess,
  REFRESH_MARGIN_MS,
} from "./oauth2_refresh.ts";

/**
 * Health contributor: `{oauth2: {provider, connected, access_token_set, error}}` while OAuth2
 * is in use. Health is public, so no account address and never a token.
 */
export async function oauth2Health(svc: Services): Promise<Record<string, unknown>> {
  const settings = await getImapSettings(svc);
  const rec = (await loadRecord(svc.kv)).value;
  if (settings.auth !== "oauth2" && !rec) return {};
  const s = await oauth2Status(svc);
  return {
    oauth2: {
      provider: s.provider,
      connected: s.connected,
      access_token_set: s.access_token_set,
      error: s.error,
    },
  };
}
