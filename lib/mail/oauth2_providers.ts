/**
 * The two OAuth2 providers WarmDesk signs in to (Google, Microsoft/Office 365): endpoints from
 * `warmdesk.yaml` (defaults are the providers' own), scopes, extra authorize parameters, and an
 * arctic `OAuth2Client` built for each. Pure apart from arctic's `fetch` calls.
 */
import {
  ArcticFetchError,
  CodeChallengeMethod,
  decodeIdToken,
  OAuth2Client,
  OAuth2RequestError,
  UnexpectedErrorResponseBodyError,
  UnexpectedResponseError,
} from "arctic";
import { type Config, missingOAuth2Keys, type OAuth2Config } from "../config.ts";

/** Provider names as the API spells them. */
export type OAuth2Provider = "google" | "office365";
export const OAUTH2_PROVIDERS: readonly OAuth2Provider[] = ["google", "office365"];

/** What the admin sees. */
export const PROVIDER_LABEL: Record<OAuth2Provider, string> = {
  google: "Google",
  office365: "Office 365",
};

/** Path of the callback route; the redirect URI registered at the provider is base_url + this. */
export const CALLBACK_PATH = "/api/v1/admin/imap/oauth2/callback";

/**
 * Scopes asked for. Google: full IMAP access is only granted by `https://mail.google.com/`;
 * `openid email` returns an id token naming the mailbox. Microsoft: IMAP over OAuth needs the
 * Outlook resource's `IMAP.AccessAsUser.All`; `offline_access` is what yields a refresh token.
 */
export const SCOPES: Record<OAuth2Provider, string[]> = {
  google: ["https://mail.google.com/", "openid", "email"],
  office365: [
    "https://outlook.office.com/IMAP.AccessAsUser.All",
    "offline_access",
    "openid",
    "email",
    "profile",
  ],
};

/** Endpoints of a provider, after config overrides. */
export interface ProviderEndpoints {
  authUrl: string;
  tokenUrl: string;
  /** Google's RFC 7009 revocation endpoint (beside the token endpoint); Microsoft has none. */
  revokeUrl: string | null;
}

/** Endpoints from the `oauth2:` config section. */
export function endpoints(c: OAuth2Config, provider: OAuth2Provider): ProviderEndpoints {
  if (provider === "google") {
    return {
      authUrl: c.google_auth_url,
      tokenUrl: c.google_token_url,
      // oauth2.googleapis.com/token -> oauth2.googleapis.com/revoke (and likewise for overrides)
      revokeUrl: new URL("revoke", c.google_token_url).href,
    };
  }
  return { authUrl: c.office_auth_url, tokenUrl: c.office_token_url, revokeUrl: null };
}

/** The redirect URI WarmDesk sends (must be registered at the provider exactly like this). */
export function redirectUri(config: Config): string {
  return config.base_url + CALLBACK_PATH;
}

/** Missing `oauth2.*` keys of a provider (empty when configured). */
export function missingKeys(config: Config, provider: OAuth2Provider): string[] {
  return missingOAuth2Keys(config.oauth2, provider);
}

/** An arctic client for a configured provider (call {@link missingKeys} first). */
export function oauthClient(config: Config, provider: OAuth2Provider): OAuth2Client {
  const c = config.oauth2;
  const [id, secret] = provider === "google"
    ? [c.google_client_id, c.google_client_secret]
    : [c.office_client_id, c.office_client_secret];
  if (!id || !secret) throw new Error(`OAuth2 client for ${provider} is not configured`);
  return new OAuth2Client(id, secret, redirectUri(config));
}

/** A short fingerprint of the client config, to notice a changed client id or endpoint. */
export function clientFingerprint(config: Config, provider: OAuth2Provider): string {
  const c = config.oauth2;
  const parts = provider === "google"
    ? [c.google_client_id, c.google_token_url]
    : [c.office_client_id, c.office_token_url];
  return parts.join("|");
}

/**
 * The consent-page URL: PKCE S256, plus what each provider needs to hand out a refresh token
 * (Google: `access_type=offline` and `prompt=consent`, else a second consent returns none).
 */
export function authorizationUrl(
  config: Config,
  provider: OAuth2Provider,
  state: string,
  codeVerifier: string,
  loginHint?: string | null,
): URL {
  const client = oauthClient(config, provider);
  const url = client.createAuthorizationURLWithPKCE(
    endpoints(config.oauth2, provider).authUrl,
    state,
    CodeChallengeMethod.S256,
    codeVerifier,
    SCOPES[provider],
  );
  if (provider === "google") {
    url.searchParams.set("access_type", "offline");
    url.searchParams.set("prompt", "consent");
  } else {
    // let the admin pick the shared mailbox's account rather than the one they are signed in as
    url.searchParams.set("prompt", "select_account");
  }
  if (loginHint) url.searchParams.set("login_hint", loginHint);
  return url;
}

/**
 * The mailbox address named by an id token: `email` (Google), `preferred_username` (Microsoft),
 * else `email` for Microsoft too. The token came straight from the token endpoint over the
 * client-authenticated back channel, so its signature need not be checked (OIDC Core 3.1.3.7).
 */
export function accountFromIdToken(
  provider: OAuth2Provider,
  idToken: string | null,
): string | null {
  if (!idToken) return null;
  let claims: Record<string, unknown>;
  try {
    claims = decodeIdToken(idToken) as Record<string, unknown>;
  } catch {
    return null;
  }
  const pick = (k: string) =>
    typeof claims[k] === "string" && (claims[k] as string).includes("@")
      ? (claims[k] as string)
      : null;
  return provider === "google"
    ? pick("email")
    : pick("preferred_username") ?? pick("email") ?? pick("upn");
}

/** OAuth error codes after which a refresh token will never work again (a new Authorise will). */
const PERMANENT = new Set([
  "invalid_grant",
  "unauthorized_client",
  "invalid_scope",
  "unsupported_grant_type",
  "invalid_client",
  "access_denied",
]);

/** How a failed token request is reported and whether retrying can help. */
export interface TokenFailure {
  /** The provider's OAuth error code, or `network` / `http_<status>` / `bad_answer`. */
  code: string;
  /** One line for the admin (no token material). */
  message: string;
  /** True when only a new Authorise (or a config change) can fix it. */
  permanent: boolean;
}

/** Classify an error thrown by arctic's token calls. */
export function classifyTokenError(provider: OAuth2Provider, e: unknown): TokenFailure {
  const who = PROVIDER_LABEL[provider];
  if (e instanceof OAuth2RequestError) {
    const hint = e.code === "invalid_grant"
      ? "the refresh token was revoked or has expired; click Authorise again"
      : e.code === "invalid_client"
      ? "check the client id and secret in warmdesk.yaml"
      : e.description ?? "";
    return {
      code: e.code,
      message: `${who} refused the token request (${e.code})${hint ? `: ${hint}` : ""}`,
      permanent: PERMANENT.has(e.code),
    };
  }
  if (e instanceof ArcticFetchError) {
    const cause = e.cause instanceof Error ? e.cause.message : String(e.cause ?? e.message);
    return {
      code: "network",
      message: `${who} token endpoint unreachable: ${cause}`,
      permanent: false,
    };
  }
  if (e instanceof UnexpectedResponseError || e instanceof UnexpectedErrorResponseBodyError) {
    return {
      code: `http_${e.status}`,
      message: `${who} token endpoint answered HTTP ${e.status}`,
      permanent: false,
    };
  }
  return {
    code: "bad_answer",
    message: `${who} token request failed: ${(e as Error)?.message ?? String(e)}`,
    permanent: false,
  };
}
