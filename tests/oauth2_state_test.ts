/**
 * The Authorise flow's guards: the `state` is single use, bound to the admin session that asked
 * for it and valid 10 minutes; provider errors come back as clear messages; a missing client
 * configuration answers 409 naming the keys while password auth keeps working; only admins.
 * Needs the stack's fake provider (OAUTH_URL), not Dovecot.
 */
import assert from "node:assert/strict";
import { agentClient, startTestApp } from "./support/app.ts";
import { mailUser } from "./imap_helpers.ts";
import { callback, consent, oauthApp, provider } from "./oauth2_support.ts";
import { keys } from "../lib/db/keys.ts";
import type { OAuthStateRecord } from "../lib/mail/oauth2_store.ts";

const U = mailUser(20);
const CALLBACK = "/api/v1/admin/imap/oauth2/callback";

async function authUrl(t: Awaited<ReturnType<typeof oauthApp>>) {
  const r = await t.admin.json("GET", "/api/v1/admin/imap/oauth2/auth-url?provider=google");
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.url as string;
}

Deno.test("[oauth2 state] wrong, replayed, foreign-session and expired states are refused", async () => {
  const t = await oauthApp(U, null);
  try {
    const back = await consent(await authUrl(t));
    const wrong = back.replace(/state=[^&]+/, "state=not-the-state");
    const w = await callback(t.admin, wrong);
    assert.equal(w.status, 200);
    assert.equal(w.message.ok, false);
    assert.match(w.message.error, /unknown, expired or was already used/);
    const none = await callback(t.admin, CALLBACK + "?code=abc");
    assert.match(none.message.error, /no state/);

    const ok = await callback(t.admin, back);
    assert.equal(ok.message.ok, true, ok.message.error);
    const replay = await callback(t.admin, back);
    assert.equal(replay.message.ok, false);
    assert.match(replay.message.error, /already used/);

    // another session of the same admin cannot finish this session's authorisation
    const other = await t.client();
    const back2 = await consent(await authUrl(t));
    const foreign = await callback(other, back2);
    assert.equal(foreign.message.ok, false);
    assert.match(foreign.message.error, /another session/);
    // and the attempt used the state up
    assert.match((await callback(t.admin, back2)).message.error, /already used/);

    // without any session: refused (the page says to sign in; oauth2_callback_session_test.ts)
    assert.equal((await t.anon().fetch(back2)).status, 401);

    // older than 10 minutes (KV's expireIn is lazy: the record's own time is checked too)
    const back3 = await consent(await authUrl(t));
    const state = new URL(back3, t.url).searchParams.get("state")!;
    const e = await t.kv.get<OAuthStateRecord>(keys.oauthState(state));
    await t.kv.set(keys.oauthState(state), {
      ...e.value!,
      created_at: new Date(Date.now() - 11 * 60_000).toISOString(),
    });
    const old = await callback(t.admin, back3);
    assert.equal(old.message.ok, false);
    assert.match(old.message.error, /expired/);
    // the earlier success stands
    const st = (await t.admin.json("GET", "/api/v1/admin/imap/oauth2/status")).body;
    assert.equal(st.connected, true);
  } finally {
    await t.close();
  }
});

Deno.test("[oauth2 state] a refused consent and a failed code exchange give clear messages", async () => {
  const t = await oauthApp(U, null, { client: { consent: "deny" } });
  try {
    const denied = await callback(t.admin, await consent(await authUrl(t)));
    assert.equal(denied.message.ok, false);
    assert.match(
      denied.message.error,
      /Google did not authorise the mailbox: access was not granted/,
    );
    assert.match(denied.html, /role="alert"/);

    // a code the provider does not know (or the wrong client secret) fails at the exchange
    await provider.control({ client_id: t.oauthClient.client_id, consent: "auto" });
    const back = await consent(await authUrl(t));
    const forged = back.replace(/code=[^&]+/, "code=forged");
    const bad = await callback(t.admin, forged);
    assert.equal(bad.message.ok, false);
    assert.match(bad.message.error, /Google refused the token request \(invalid_grant\)/);
    // provider text cannot break out of the page's script
    const evil = CALLBACK + "?" + new URLSearchParams({
      state: new URL(await consent(await authUrl(t)), t.url).searchParams.get("state")!,
      error: "server_error",
      error_description: "</script><script>alert(1)</script>",
    });
    const page = await callback(t.admin, evil);
    assert.equal(page.message.ok, false);
    assert.ok(!page.html.includes("<script>alert(1)"), "provider text is escaped");
    assert.equal((page.html.match(/<script/g) ?? []).length, 1);
    const st = (await t.admin.json("GET", "/api/v1/admin/imap/oauth2/status")).body;
    assert.equal(st.connected, false);
    const settings = (await t.admin.json("GET", "/api/v1/admin/imap")).body.settings;
    assert.equal(settings.auth, "plain", "a failed Authorise changes nothing");
  } finally {
    await t.close();
  }
});

Deno.test("[oauth2 state] without client credentials auth-url answers 409 naming the missing keys", async () => {
  const t = await startTestApp({
    start: false,
    file: { oauth2: { office_client_id: "only-the-id" } },
  });
  try {
    const admin = await t.client();
    const g = await admin.json("GET", "/api/v1/admin/imap/oauth2/auth-url?provider=google");
    assert.equal(g.status, 409);
    assert.equal(g.body.code, "oauth2_not_configured");
    assert.match(g.body.error, /oauth2\.google_client_id/);
    assert.match(g.body.error, /oauth2\.google_client_secret/);
    assert.deepEqual(g.body.missing, ["oauth2.google_client_id", "oauth2.google_client_secret"]);
    const o = await admin.json("GET", "/api/v1/admin/imap/oauth2/auth-url?provider=office365");
    assert.equal(o.status, 409);
    assert.deepEqual(o.body.missing, ["oauth2.office_client_secret"]);
    const bad = await admin.json("GET", "/api/v1/admin/imap/oauth2/auth-url?provider=yahoo");
    assert.equal(bad.status, 422);
    assert.equal(bad.body.field, "provider");

    const st = await admin.json("GET", "/api/v1/admin/imap/oauth2/status");
    assert.equal(st.status, 200);
    assert.deepEqual(
      {
        provider: st.body.provider,
        connected: st.body.connected,
        account: st.body.account,
        access_token_set: st.body.access_token_set,
        expires_at: st.body.expires_at,
        error: st.body.error,
      },
      {
        provider: null,
        connected: false,
        account: null,
        access_token_set: false,
        expires_at: null,
        error: null,
      },
    );
    assert.deepEqual(st.body.configured, { google: false, office365: false });
    assert.equal(st.body.redirect_uri, `${t.url}/api/v1/admin/imap/oauth2/callback`);

    // password auth is untouched by the missing OAuth2 config
    const put = await admin.json("PUT", "/api/v1/admin/imap", {
      host: "127.0.0.1",
      username: "someone@example.test",
      password: "pw",
      auth: "plain",
    });
    assert.equal(put.status, 200);
    assert.equal(put.body.settings.auth, "plain");
    const health = await t.anon().json("GET", "/api/v1/health");
    assert.equal(health.body.oauth2, undefined);
    // disconnecting with nothing connected is fine
    assert.equal(
      (await admin.fetch("/api/v1/admin/imap/oauth2/disconnect", { method: "POST" })).status,
      204,
    );
  } finally {
    await t.close();
  }
});

Deno.test("[oauth2 state] only admins reach the OAuth2 routes", async () => {
  const t = await oauthApp(U, null);
  try {
    const agent = await agentClient(t);
    for (
      const [method, path] of [
        ["GET", "/api/v1/admin/imap/oauth2/auth-url?provider=google"],
        ["GET", "/api/v1/admin/imap/oauth2/status"],
        ["POST", "/api/v1/admin/imap/oauth2/disconnect"],
        ["GET", CALLBACK + "?code=x&state=y"],
      ]
    ) {
      const r = await agent.json(method, path);
      assert.equal(r.status, 403, `${method} ${path}`);
      assert.equal((await t.anon().json(method, path)).status, 401, `${method} ${path}`);
    }
  } finally {
    await t.close();
  }
});
