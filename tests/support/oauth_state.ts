/**
 * State and request handling of the fake OAuth2 provider (see oauth_provider.ts for the
 * endpoints and how tests use it). Kept apart so the server module stays small.
 */

/** URL-safe base64 without padding (PKCE challenges, tokens, JWT parts). */
export function b64url(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Default client registered in every provider (the standalone one too). */
export const DEFAULT_CLIENT_ID = "warmdesk-test";
/** Secret of {@link DEFAULT_CLIENT_ID}. */
export const DEFAULT_CLIENT_SECRET = "warmdesk-test-secret";
const CODE_TTL_MS = 10 * 60 * 1000;
const LOG_LIMIT = 2000;

/** Per-client behaviour of the provider. */
export interface ClientSettings {
  client_secret: string;
  /** Allowed redirect URIs; empty means any http(s) URL. */
  redirect_uris: string[];
  /** Mailbox user the issued tokens belong to (introspection `username`, id token email). */
  account: string;
  /** Shape of id token and token answers. */
  style: "google" | "microsoft";
  /** Lifetime of access tokens in seconds. */
  expires_in: number;
  /** Refresh answers a new refresh token and invalidates the old one. */
  rotate: boolean;
  /** When set (e.g. "invalid_grant"), every refresh_token grant fails with this error. */
  fail_refresh: string | null;
  /** "auto" grants at once; "deny" answers error=access_denied. */
  consent: "auto" | "deny";
  id_token_alg: "none" | "HS256";
}

/** Body of `POST /_control`: settings plus one-shot actions. */
export interface ControlRequest extends Partial<ClientSettings> {
  /** Client to change (registered when new); default {@link DEFAULT_CLIENT_ID}. */
  client_id?: string;
  /** Revoke every access and refresh token of the client. */
  revoke_all?: boolean;
  /** Make every live access token of the client expired now (refresh tokens stay). */
  expire_access?: boolean;
}

/** Body of `POST /_control/token`. */
export interface MintRequest {
  client_id?: string;
  /** Default: the client's account. */
  account?: string;
  expires_in?: number;
  scope?: string;
}

/** Tokens as the token endpoint answers them. */
export interface TokenSet {
  access_token: string;
  refresh_token?: string;
  expires_in: number;
}

/** One request the provider saw (never tokens, codes or secrets). */
export interface LogEntry {
  at: string;
  method: string;
  path: string;
  status: number;
  client_id?: string;
  grant_type?: string;
  scope?: string;
  /** For /introspect: whether the token was live, and for whom. */
  active?: boolean;
  username?: string;
  error?: string;
}

interface Grant {
  kind: "access" | "refresh" | "code";
  client_id: string;
  account: string;
  scope: string;
  expires: number; // ms epoch
  revoked: boolean;
  redirect_uri?: string;
  challenge?: string;
  /** access tokens: the refresh token they came from */
  parent?: string;
}

class OAuthError extends Error {
  constructor(readonly code: string, readonly status = 400) {
    super(code);
  }
}

const enc = new TextEncoder();
const b64urlStr = (s: string | Uint8Array) => b64url(typeof s === "string" ? enc.encode(s) : s);
const randomToken = (prefix: string) =>
  `${prefix}${b64url(crypto.getRandomValues(new Uint8Array(24)))}`;

/** All provider state and request handling; shared by the in-process and standalone modes. */
export class OAuthState {
  clients = new Map<string, ClientSettings>();
  grants = new Map<string, Grant>();
  entries_: LogEntry[] = [];

  constructor(
    readonly issuer: () => string,
    readonly defaults: Partial<ClientSettings>,
    readonly onLog?: (e: LogEntry) => void,
  ) {
    this.reset();
  }

  reset() {
    this.clients.clear();
    this.grants.clear();
    this.entries_ = [];
    this.clients.set(DEFAULT_CLIENT_ID, this.fresh(this.defaults));
  }

  fresh(s: Partial<ClientSettings>): ClientSettings {
    return {
      client_secret: DEFAULT_CLIENT_SECRET,
      redirect_uris: [],
      account: "alice@example.test",
      style: "google",
      expires_in: 3600,
      rotate: false,
      fail_refresh: null,
      consent: "auto",
      id_token_alg: "none",
      ...s,
    };
  }

  control(req: ControlRequest): ClientSettings & { client_id: string } {
    const { client_id = DEFAULT_CLIENT_ID, revoke_all, expire_access, ...settings } = req;
    const known = Object.keys(this.fresh({}));
    const bad = Object.keys(settings).filter((k) => !known.includes(k));
    if (bad.length) throw new OAuthError(`unknown control field(s): ${bad.join(", ")}`);
    const c = { ...(this.clients.get(client_id) ?? this.fresh(this.defaults)), ...settings };
    this.clients.set(client_id, c);
    for (const g of this.grants.values()) {
      if (g.client_id !== client_id) continue;
      if (revoke_all) g.revoked = true;
      if (expire_access && g.kind === "access") g.expires = Date.now() - 1000;
    }
    return { client_id, ...c };
  }

  entries(clientId?: string): LogEntry[] {
    return this.entries_.filter((e) => !clientId || e.client_id === clientId);
  }

  async mint(req: MintRequest): Promise<TokenSet> {
    const client_id = req.client_id ?? DEFAULT_CLIENT_ID;
    const c = this.clients.get(client_id);
    if (!c) throw new OAuthError("invalid_client", 401);
    const account = req.account ?? c.account;
    const { body } = await this.issue(
      client_id,
      { ...c, account, expires_in: req.expires_in ?? c.expires_in },
      req.scope ?? "",
      true,
    );
    return body as unknown as TokenSet;
  }

  /** Issues an access token (and refresh token when asked) plus an id token. */
  async issue(
    client_id: string,
    c: ClientSettings,
    scope: string,
    withRefresh: boolean,
    parent?: string,
  ) {
    const now = Date.now();
    const access = randomToken("at-");
    const refresh = withRefresh ? randomToken("rt-") : parent;
    this.grants.set(access, {
      kind: "access",
      client_id,
      account: c.account,
      scope,
      expires: now + c.expires_in * 1000,
      revoked: false,
      parent: refresh,
    });
    if (withRefresh) {
      this.grants.set(refresh!, {
        kind: "refresh",
        client_id,
        account: c.account,
        scope,
        expires: Infinity,
        revoked: false,
      });
    }
    const body: Record<string, unknown> = {
      access_token: access,
      token_type: "Bearer",
      expires_in: c.expires_in,
      scope,
    };
    if (c.style === "microsoft") body.ext_expires_in = c.expires_in;
    if (withRefresh) body.refresh_token = refresh;
    body.id_token = await this.idToken(client_id, c);
    return { body, refresh };
  }

  async idToken(aud: string, c: ClientSettings): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const sub = b64urlStr(
      new Uint8Array(await crypto.subtle.digest("SHA-256", enc.encode(c.account))),
    ).slice(0, 21);
    const claims: Record<string, unknown> = c.style === "google"
      ? {
        iss: this.issuer(),
        aud,
        sub,
        email: c.account,
        email_verified: true,
        iat: now,
        exp: now + 3600,
      }
      : {
        iss: `${this.issuer()}/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0`,
        aud,
        sub,
        oid: sub,
        tid: "9188040d-6c67-4c5b-b112-36a304b66dad",
        preferred_username: c.account,
        name: c.account.split("@")[0],
        iat: now,
        nbf: now,
        exp: now + 3600,
        ver: "2.0",
      };
    const head = b64urlStr(JSON.stringify({ alg: c.id_token_alg, typ: "JWT" }));
    const input = `${head}.${b64urlStr(JSON.stringify(claims))}`;
    if (c.id_token_alg === "none") return `${input}.`;
    const key = await crypto.subtle.importKey(
      "raw",
      enc.encode(c.client_secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    return `${input}.${
      b64urlStr(new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(input))))
    }`;
  }

  async handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const m = url.pathname.match(/^\/(google|microsoft)(\/.*)$/);
    const style = m?.[1] as ClientSettings["style"] | undefined;
    const path = m ? m[2] : url.pathname;
    const entry: LogEntry = {
      at: new Date().toISOString(),
      method: req.method,
      path: url.pathname,
      status: 200,
    };
    let res: Response;
    try {
      res = await this.route(req, url, path, style, entry);
    } catch (e) {
      const err = e instanceof OAuthError ? e : new OAuthError("server_error", 500);
      if (!(e instanceof OAuthError)) console.error(e);
      entry.error = err.code;
      res = Response.json({ error: err.code, error_description: `fake provider: ${err.code}` }, {
        status: err.status,
      });
    }
    entry.status = res.status;
    if (!path.startsWith("/_control") && path !== "/health") {
      this.entries_.push(entry);
      if (this.entries_.length > LOG_LIMIT) this.entries_.shift();
      this.onLog?.(entry);
    }
    return res;
  }

  async route(
    req: Request,
    url: URL,
    path: string,
    style: ClientSettings["style"] | undefined,
    entry: LogEntry,
  ): Promise<Response> {
    const form = async () => {
      const type = req.headers.get("content-type") ?? "";
      if (type.includes("application/json")) return new URLSearchParams(await req.json());
      return new URLSearchParams(await req.text());
    };
    const key = `${req.method} ${path}`;
    switch (key) {
      case "GET /health":
        return new Response("ok\n");
      case "GET /authorize":
        return this.authorize(url.searchParams, entry);
      case "POST /token":
        return await this.token(req, await form(), style, entry);
      case "POST /revoke": {
        const token = (await form()).get("token") ?? url.searchParams.get("token") ?? "";
        const g = this.grants.get(token);
        entry.client_id = g?.client_id;
        if (g) {
          g.revoked = true;
          // Google: revoking a refresh token also kills the access tokens minted from it
          for (const a of this.grants.values()) if (a.parent === token) a.revoked = true;
        }
        return Response.json({});
      }
      case "POST /introspect": {
        const bearer = req.headers.get("authorization")?.match(/^Bearer\s+(.+)$/i)?.[1];
        const token = bearer ?? (await form()).get("token") ?? "";
        const g = this.grants.get(token);
        const live = !!g && g.kind === "access" && !g.revoked && g.expires > Date.now();
        Object.assign(entry, {
          client_id: g?.client_id,
          active: live,
          username: live ? g!.account : undefined,
        });
        if (!live) return Response.json({ active: false });
        return Response.json({
          active: true,
          username: g!.account,
          email: g!.account,
          scope: g!.scope,
          client_id: g!.client_id,
          token_type: "Bearer",
          exp: Math.floor(g!.expires / 1000),
        });
      }
      case "POST /_control":
        return Response.json(this.control(await req.json()));
      case "POST /_control/token":
        return Response.json(await this.mint(await req.json()));
      case "GET /_control/log":
        return Response.json({
          entries: this.entries(url.searchParams.get("client_id") ?? undefined),
        });
      case "POST /_control/reset":
        this.reset();
        return Response.json({ ok: true });
    }
    throw new OAuthError("not_found", 404);
  }

  authorize(q: URLSearchParams, entry: LogEntry): Response {
    const client_id = q.get("client_id") ?? "";
    const redirect = q.get("redirect_uri") ?? "";
    Object.assign(entry, { client_id, scope: q.get("scope") ?? undefined });
    const c = this.clients.get(client_id);
    if (!c) throw new OAuthError("invalid_client");
    let target: URL;
    try {
      target = new URL(redirect);
    } catch {
      throw new OAuthError("invalid_redirect_uri");
    }
    const listed = c.redirect_uris.length
      ? c.redirect_uris.includes(redirect)
      : /^https?:$/.test(target.protocol);
    if (!listed) throw new OAuthError("redirect_uri_mismatch");
    const state = q.get("state");
    const back = (params: Record<string, string>) => {
      for (const [k, v] of Object.entries(params)) target.searchParams.set(k, v);
      if (state !== null) target.searchParams.set("state", state);
      return new Response(null, { status: 302, headers: { location: target.href } });
    };
    const fail = (error: string) => {
      entry.error = error;
      return back({ error });
    };
    if (q.get("response_type") !== "code") return fail("unsupported_response_type");
    if (!state) return fail("invalid_request");
    if (!q.get("scope")) return fail("invalid_scope");
    if (!q.get("code_challenge") || q.get("code_challenge_method") !== "S256") {
      return fail("invalid_request");
    }
    if (c.consent === "deny") return fail("access_denied");
    const code = randomToken("code-");
    this.grants.set(code, {
      kind: "code",
      client_id,
      account: c.account,
      scope: q.get("scope")!,
      expires: Date.now() + CODE_TTL_MS,
      revoked: false,
      redirect_uri: redirect,
      challenge: q.get("code_challenge")!,
    });
    return back({ code });
  }

  async token(
    req: Request,
    f: URLSearchParams,
    style: ClientSettings["style"] | undefined,
    entry: LogEntry,
  ): Promise<Response> {
    let id = f.get("client_id"), secret = f.get("client_secret");
    const basic = req.headers.get("authorization")?.match(/^Basic\s+(.+)$/i)?.[1];
    if (basic) {
      const dec = atob(basic);
      const i = dec.indexOf(":");
      [id, secret] = [decodeURIComponent(dec.slice(0, i)), decodeURIComponent(dec.slice(i + 1))];
    }
    const grantType = f.get("grant_type") ?? "";
    Object.assign(entry, { client_id: id ?? undefined, grant_type: grantType });
    const stored = this.clients.get(id ?? "");
    if (!stored || !secret || stored.client_secret !== secret) {
      throw new OAuthError("invalid_client", 401);
    }
    const c = style ? { ...stored, style } : stored;
    if (grantType === "authorization_code") {
      const code = f.get("code") ?? "";
      const g = this.grants.get(code);
      if (!g || g.kind !== "code" || g.revoked || g.expires < Date.now() || g.client_id !== id) {
        throw new OAuthError("invalid_grant");
      }
      g.revoked = true; // single use
      if (f.get("redirect_uri") !== g.redirect_uri) throw new OAuthError("invalid_grant");
      const verifier = f.get("code_verifier") ?? "";
      const digest = b64urlStr(
        new Uint8Array(await crypto.subtle.digest("SHA-256", enc.encode(verifier))),
      );
      if (!verifier || digest !== g.challenge) throw new OAuthError("invalid_grant");
      entry.scope = g.scope;
      return Response.json(
        (await this.issue(id!, { ...c, account: g.account }, g.scope, true)).body,
      );
    }
    if (grantType === "refresh_token") {
      if (c.fail_refresh) throw new OAuthError(c.fail_refresh);
      const old = f.get("refresh_token") ?? "";
      const g = this.grants.get(old);
      if (!g || g.kind !== "refresh" || g.revoked || g.client_id !== id) {
        throw new OAuthError("invalid_grant");
      }
      if (c.rotate) g.revoked = true;
      const { body } = await this.issue(
        id!,
        { ...c, account: g.account },
        g.scope,
        c.rotate,
        c.rotate ? undefined : old,
      );
      return Response.json(body);
    }
    throw new OAuthError("unsupported_grant_type");
  }
}
