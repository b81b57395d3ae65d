/**
 * Fake OAuth2 provider for tests, standing in for Google and Microsoft (nothing leaves loopback).
 *
 * Endpoints (optionally under a `/google` or `/microsoft` prefix, which forces that style):
 * - `GET /authorize`: checks client_id, redirect_uri, response_type=code, code_challenge (S256),
 *   state and scope. With `consent: "auto"` it 302s at once to `redirect_uri?code=..&state=..`;
 *   with `consent: "deny"` to `redirect_uri?error=access_denied&state=..`. An unknown client or a
 *   bad redirect_uri answers 400 without redirecting (as the real providers do).
 * - `POST /token`: `authorization_code` (PKCE verified, redirect_uri must match) and
 *   `refresh_token`; client auth by HTTP Basic or `client_id`+`client_secret` in the body.
 *   Answers `{access_token, token_type, expires_in, scope, refresh_token?, id_token}`; the id
 *   token carries `email` (Google style) or `preferred_username` (Microsoft style), alg `none`
 *   or HS256 keyed with the client secret.
 * - `POST /revoke` (token=..), `POST /introspect` (RFC 7662, what Dovecot's oauth2 passdb calls:
 *   `{active, username, email, scope, exp, client_id}` for live access tokens), `GET /health`.
 * - Control API for tests: `POST /_control` with a {@link ControlRequest} (settings apply to the
 *   client named by `client_id`, registering it when new; without `client_id` to the default
 *   client), `POST /_control/token` mints a token pair without the browser flow,
 *   `GET /_control/log[?client_id=..]` lists requests seen (never tokens, codes or secrets),
 *   `POST /_control/reset` forgets clients, tokens and the log.
 *
 * Parallel tests share the provider started by `mailstack.sh`: each test should use its own
 * client id (see {@link uniqueClient}) so its settings and log do not mix with others'.
 *
 * In-process: `const p = startOAuthProvider(); ...; await p.close();`
 * Standalone: `OAUTH_PORT=10090 deno run -A tests/support/oauth_provider.ts` (mailstack.sh does
 * this); drive it from tests with `oauthProviderClient(mailEnv().oauthUrl)`.
 */
import {
  b64url,
  type ClientSettings,
  type ControlRequest,
  type LogEntry,
  type MintRequest,
  OAuthState,
  type TokenSet,
} from "./oauth_state.ts";

export { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET } from "./oauth_state.ts";
export type { ClientSettings, ControlRequest, LogEntry, MintRequest, TokenSet };

/** What tests use to steer a provider, in-process or over HTTP. */
export interface OAuthProviderControl {
  /** Base URL, e.g. `http://127.0.0.1:10090` (endpoints are `${url}/authorize` etc.). */
  readonly url: string;
  /** Changes a client's settings (registering it when new); answers the resulting settings. */
  control(req: ControlRequest): Promise<ClientSettings & { client_id: string }>;
  /** Issues an access + refresh token for a client's account without the browser flow. */
  mintToken(req?: MintRequest): Promise<TokenSet>;
  /** Requests seen, oldest first, optionally only those of one client. */
  log(clientId?: string): Promise<LogEntry[]>;
  /** Forgets all clients (except the default one), tokens and the log. */
  reset(): Promise<void>;
}

/** A provider running in this process. */
export interface OAuthProvider extends OAuthProviderControl {
  readonly port: number;
  /** Stops listening and waits for the server to finish. */
  close(): Promise<void>;
}

/** Options for {@link startOAuthProvider}. */
export interface StartOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  hostname?: string;
  /** Settings of the default client (`warmdesk-test`). */
  defaults?: Partial<ClientSettings>;
  /** Called with each log entry (the standalone server prints them). */
  onLog?: (e: LogEntry) => void;
}

/** Starts the fake provider on 127.0.0.1. */
export function startOAuthProvider(opts: StartOptions = {}): OAuthProvider {
  const hostname = opts.hostname ?? "127.0.0.1";
  let url = "";
  const state = new OAuthState(() => url, opts.defaults ?? {}, opts.onLog);
  const server = Deno.serve(
    { hostname, port: opts.port ?? 0, onListen() {} },
    (req) => state.handle(req),
  );
  const port = server.addr.port;
  url = `http://${hostname}:${port}`;
  return {
    url,
    port,
    control: (req) => Promise.resolve(state.control(req)),
    mintToken: (req = {}) => state.mint(req),
    log: (clientId) => Promise.resolve(state.entries(clientId)),
    reset: () => Promise.resolve(state.reset()),
    async close() {
      await server.shutdown();
      await server.finished;
    },
  };
}

/** An HTTP client for the control API of a provider running elsewhere (mailstack.sh's). */
export function oauthProviderClient(url: string): OAuthProviderControl {
  const base = url.replace(/\/+$/, "");
  async function call<T>(path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${base}${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`oauth provider ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }
  return {
    url: base,
    control: (req) => call("/_control", req),
    mintToken: (req = {}) => call("/_control/token", req),
    log: async (clientId) =>
      (await call<{ entries: LogEntry[] }>(
        `/_control/log${clientId ? `?client_id=${encodeURIComponent(clientId)}` : ""}`,
      )).entries,
    reset: async () => void await call("/_control/reset", {}),
  };
}

/** Registers a fresh client with its own id and secret, so parallel tests do not interfere. */
export async function uniqueClient(
  ctl: OAuthProviderControl,
  settings: Partial<ClientSettings> = {},
): Promise<ClientSettings & { client_id: string }> {
  const client_id = `test-${crypto.randomUUID()}`;
  return await ctl.control({
    client_secret: `secret-${crypto.randomUUID()}`,
    ...settings,
    client_id,
  });
}

/** Result of {@link runAuthorizationFlow}. */
export interface FlowResult {
  code: string;
  state: string;
  tokens: TokenSet & { id_token?: string; scope?: string; token_type?: string };
  claims: Record<string, unknown>;
}

/**
 * Plays the client side of authorize -> token with PKCE (what the app does with arctic), for
 * tests that need real provider-issued tokens. Throws with the provider's error otherwise.
 */
export async function runAuthorizationFlow(
  providerUrl: string,
  client: {
    client_id: string;
    client_secret: string;
    redirect_uri?: string;
    scope?: string;
    /** How the client authenticates at /token (default "basic", like arctic). */
    auth?: "basic" | "body";
  },
): Promise<FlowResult> {
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const challenge = b64url(
    new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))),
  );
  const state = crypto.randomUUID();
  const redirect = client.redirect_uri ?? "http://127.0.0.1:8000/api/v1/admin/imap/oauth2/callback";
  const q = new URLSearchParams({
    response_type: "code",
    client_id: client.client_id,
    redirect_uri: redirect,
    state,
    scope: client.scope ?? "openid email https://mail.google.com/",
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  const res = await fetch(`${providerUrl}/authorize?${q}`, { redirect: "manual" });
  await res.body?.cancel();
  const loc = res.headers.get("location");
  if (res.status !== 302 || !loc) throw new Error(`authorize answered ${res.status}`);
  const back = new URL(loc);
  if (back.searchParams.get("error")) {
    throw new Error(`authorize: ${back.searchParams.get("error")}`);
  }
  if (back.searchParams.get("state") !== state) throw new Error("authorize: state mismatch");
  const code = back.searchParams.get("code") ?? "";
  const body = new URLSearchParams({
    grant_type: "authorization_code",
    code,
    redirect_uri: redirect,
    code_verifier: verifier,
  });
  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" };
  if (client.auth === "body") {
    body.set("client_id", client.client_id);
    body.set("client_secret", client.client_secret);
  } else {
    headers.authorization = `Basic ${btoa(`${client.client_id}:${client.client_secret}`)}`;
  }
  const tr = await fetch(`${providerUrl}/token`, { method: "POST", headers, body });
  const tokens = await tr.json();
  if (!tr.ok) throw new Error(`token: ${tr.status} ${tokens.error}`);
  return { code, state, tokens, claims: tokens.id_token ? decodeJwt(tokens.id_token) : {} };
}

/** Decodes a JWT's payload without checking its signature (tests only). */
export function decodeJwt(jwt: string): Record<string, unknown> {
  const part = jwt.split(".")[1] ?? "";
  const bin = atob(part.replace(/-/g, "+").replace(/_/g, "/"));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0))));
}

if (import.meta.main) {
  const port = Number(Deno.env.get("OAUTH_PORT") ?? 10090);
  const p = startOAuthProvider({
    port,
    onLog: (e) => console.log(JSON.stringify(e)),
  });
  console.log(`oauth provider listening on ${p.url}`);
  for (const sig of ["SIGTERM", "SIGINT"] as const) {
    Deno.addSignalListener(sig, () => p.close().then(() => Deno.exit(0)));
  }
}
