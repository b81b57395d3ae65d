/**
 * Helpers of the OAuth2 end-to-end tests: the fake provider started by mailstack.sh (the one
 * Dovecot's oauth2 passdb asks by introspection, so the tokens it issues open real mailboxes),
 * a test app whose `oauth2:` endpoints point at it (or at an in-process provider, for tests that
 * need no mailbox), and the browser part of the Authorise flow played with fetch (auth-url →
 * provider /authorize → our callback).
 */
import assert from "node:assert/strict";
import { type Client, startTestApp, type TestApp } from "./support/app.ts";
import {
  type ClientSettings,
  type OAuthProvider,
  oauthProviderClient,
  startOAuthProvider,
  uniqueClient,
} from "./support/oauth_provider.ts";
import { type MailUser, stack, type TestBox } from "./imap_helpers.ts";
import { saveImapSettings } from "../lib/mail/imap_settings.ts";
import { loadRecord } from "../lib/mail/oauth2_store.ts";

/** The stack's provider (mailstack.sh exports OAUTH_URL). */
export const OAUTH_URL = Deno.env.get("OAUTH_URL") ?? "http://127.0.0.1:10090";
export const provider = oauthProviderClient(OAUTH_URL);

export type Style = "google" | "microsoft";

export interface OAuthApp extends TestApp {
  admin: Client;
  oauthClient: ClientSettings & { client_id: string };
  apiProvider: "google" | "office365";
}

/**
 * A test app (background work off) with a fresh provider client for `user`'s mailbox, IMAP
 * settings pointing at `box` (auth still plain: Authorise switches it), and a signed-in admin.
 */
export async function oauthApp(
  user: MailUser,
  box: TestBox | null,
  opts: { style?: Style; client?: Partial<ClientSettings> } = {},
): Promise<OAuthApp> {
  const style = opts.style ?? "google";
  const oauthClient = await uniqueClient(provider, { account: user.user, ...opts.client });
  // the provider's /microsoft/* paths answer Microsoft-shaped tokens
  const base = style === "microsoft" ? `${OAUTH_URL}/microsoft` : OAUTH_URL;
  const t = await startTestApp({
    start: false,
    file: { oauth2: oauth2Section(style, oauthClient, base) },
  });
  if (box) {
    await saveImapSettings(t.app.svc, {
      host: stack.host,
      port: stack.port,
      security: "none",
      tls_verify: false,
      username: user.user,
      mailbox: box.mailbox,
      processed_mailbox: box.processed,
      idle: false,
      enabled: false,
    });
  }
  const admin = await t.client();
  return Object.assign(t, {
    admin,
    oauthClient,
    apiProvider: (style === "microsoft" ? "office365" : "google") as "google" | "office365",
  });
}

/** The app's `oauth2:` section: one provider's client, its endpoints at the fake under `base`. */
function oauth2Section(
  style: Style,
  client: { client_id: string; client_secret: string },
  base: string,
): Record<string, string> {
  const p = style === "microsoft" ? "office" : "google";
  return {
    [`${p}_client_id`]: client.client_id,
    [`${p}_client_secret`]: client.client_secret,
    [`${p}_auth_url`]: `${base}/authorize`,
    [`${p}_token_url`]: `${base}/token`,
  };
}

/** A test app with a Google client at its own in-process provider (see {@link localOAuthApp}). */
export interface LocalOAuthApp extends TestApp {
  provider: OAuthProvider;
  oauthClient: ClientSettings & { client_id: string };
}

/**
 * A test app whose Google OAuth2 endpoints are an in-process fake provider, with a fresh client
 * there set up with `client` (account, consent, ...); no IMAP settings. close() stops both.
 */
export async function localOAuthApp(
  client: Partial<ClientSettings>,
  opts: { start?: boolean } = {},
): Promise<LocalOAuthApp> {
  const provider = startOAuthProvider();
  try {
    const oauthClient = await uniqueClient(provider, client);
    const t = await startTestApp({
      start: opts.start,
      file: { oauth2: oauth2Section("google", oauthClient, provider.url) },
    });
    const closeApp = t.close;
    return Object.assign(t, {
      provider,
      oauthClient,
      async close() {
        try {
          await closeApp();
        } finally {
          await provider.close();
        }
      },
    });
  } catch (e) {
    await provider.close();
    throw e;
  }
}

/** How many OAuth2 states are recorded in KV. */
export async function stateCount(t: TestApp): Promise<number> {
  let n = 0;
  for await (const _ of t.kv.list({ prefix: ["oauth_state"] })) n++;
  return n;
}

/** The provider's redirect back to us: `/api/v1/admin/imap/oauth2/callback?code=..&state=..`. */
export async function consent(authUrl: string): Promise<string> {
  const res = await fetch(authUrl, { redirect: "manual" });
  await res.body?.cancel();
  assert.equal(res.status, 302, `authorize answered ${res.status}`);
  const loc = new URL(res.headers.get("location")!);
  return loc.pathname + loc.search;
}

/** The callback page's answer: status, HTML, headers, and the message it posts. */
export interface CallbackAnswer {
  status: number;
  html: string;
  headers: Headers;
  // deno-lint-ignore no-explicit-any
  message: any;
}

/** Call the callback as `who` and read the message its script would post. */
export async function callback(who: Client, path: string): Promise<CallbackAnswer> {
  const res = await who.fetch(path);
  const html = await res.text();
  const m = /var msg = (\{.*?\});\n/.exec(html);
  return { status: res.status, html, headers: res.headers, message: m ? JSON.parse(m[1]) : null };
}

/** The whole Authorise: auth-url, consent at the provider, callback. */
export async function authorise(t: OAuthApp, who: Client = t.admin): Promise<CallbackAnswer> {
  const r = await who.json("GET", `/api/v1/admin/imap/oauth2/auth-url?provider=${t.apiProvider}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return await callback(who, await consent(r.body.url));
}

/** The token strings the app holds (opened from KV), to prove none of them leaks. */
export async function heldTokens(t: TestApp): Promise<string[]> {
  const rec = (await loadRecord(t.kv)).value;
  if (!rec) return [];
  const out = [await t.app.svc.vault.open(rec.refresh_sealed)];
  if (rec.access_sealed) out.push(await t.app.svc.vault.open(rec.access_sealed));
  return out;
}

/** Fails when any of `secrets` occurs in any of `texts`. */
export function assertNoSecret(texts: Iterable<string>, secrets: Iterable<string>) {
  const all = [...texts];
  for (const s of secrets) {
    assert.ok(s.length >= 16, "a token to look for is suspiciously short");
    for (const text of all) {
      assert.ok(!text.includes(s), `a token leaked into: ${text.slice(0, 200)}`);
    }
  }
}

/** Requests of one client the provider saw, filtered by path and grant. */
export async function seen(clientId: string, path: string, grant?: string) {
  return (await provider.log(clientId)).filter((e) =>
    e.path.endsWith(path) && (grant === undefined || e.grant_type === grant)
  );
}

/** Dovecot's login lines for a user (auth_verbose), to see the SASL mechanism used. */
export async function dovecotLogins(user: string): Promise<string[]> {
  if (!stack.dir) return [];
  const text = await Deno.readTextFile(`${stack.dir}/log/dovecot.log`).catch(() => "");
  return text.split("\n").filter((l) => l.includes("Login: ") && l.includes(`user=<${user}>`));
}
