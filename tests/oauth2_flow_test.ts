/**
 * OAuth2 end to end against the stack: Authorise (auth-url → the fake provider → callback),
 * then a poll that signs in to Dovecot with the issued access token (Dovecot checks it at the
 * provider by introspection) and imports mail; Office 365 shaped tokens; Disconnect.
 * Run with the stack: `deno task test tests/oauth2_flow_test.ts`.
 */
import assert from "node:assert/strict";
import { mail, mailUser, stack, testBox } from "./imap_helpers.ts";
import {
  assertNoSecret,
  authorise,
  dovecotLogins,
  heldTokens,
  oauthApp,
  provider,
  seen,
} from "./oauth2_support.ts";
import { loadRecord } from "../lib/mail/oauth2_store.ts";

const U = mailUser(18);

Deno.test("[oauth2] Authorise with Google, then a poll over XOAUTH2 imports the mail", async () => {
  const box = await testBox(U);
  const t = await oauthApp(U, box);
  try {
    const r = await t.admin.json("GET", "/api/v1/admin/imap/oauth2/auth-url?provider=google");
    assert.equal(r.status, 200);
    const url = new URL(r.body.url);
    assert.equal(url.searchParams.get("code_challenge_method"), "S256");
    assert.match(url.searchParams.get("code_challenge") ?? "", /^[\w-]{43}$/);
    assert.equal(url.searchParams.get("access_type"), "offline");
    assert.equal(url.searchParams.get("prompt"), "consent");
    assert.equal(url.searchParams.get("login_hint"), U.user);
    assert.deepEqual(url.searchParams.get("scope")!.split(" ").sort(), [
      "email",
      "https://mail.google.com/",
      "openid",
    ]);
    assert.equal(
      url.searchParams.get("redirect_uri"),
      `${t.url}/api/v1/admin/imap/oauth2/callback`,
    );

    const cb = await authorise(t);
    assert.equal(cb.status, 200);
    assert.deepEqual(cb.message, { type: "warmdesk-oauth2", ok: true, provider: "google" });
    assert.match(cb.headers.get("content-type") ?? "", /^text\/html/);
    assert.equal(cb.headers.get("cross-origin-opener-policy"), "unsafe-none");
    assert.equal(cb.headers.get("cache-control"), "no-store");
    const nonce = /<script nonce="([^"]+)">/.exec(cb.html)?.[1];
    assert.ok(nonce, "the inline script carries a nonce");
    assert.ok(cb.headers.get("content-security-policy")!.includes(`'nonce-${nonce}'`));
    assert.match(cb.html, /window\.opener\.postMessage\(msg, location\.origin\)/);

    const st = await t.admin.json("GET", "/api/v1/admin/imap/oauth2/status");
    assert.equal(st.status, 200);
    assert.equal(st.body.provider, "google");
    assert.equal(st.body.connected, true);
    assert.equal(st.body.account, U.user);
    assert.equal(st.body.access_token_set, true);
    assert.equal(st.body.error, null);
    assert.ok(Date.parse(st.body.expires_at) > Date.now() + 50 * 60_000);
    const settings = (await t.admin.json("GET", "/api/v1/admin/imap")).body.settings;
    assert.equal(settings.auth, "oauth2");
    assert.equal(settings.provider, "google");

    await box.append(mail({ subject: "Sent to an OAuth2 mailbox" }));
    const xoauth2 = async () =>
      (await dovecotLogins(U.user)).filter((l) => l.includes("method=XOAUTH2")).length;
    const before = await xoauth2();
    const poll = await t.admin.json("POST", "/api/v1/admin/imap/poll");
    assert.equal(poll.status, 200);
    assert.equal(poll.body.ok, true, poll.body.error);
    assert.equal(poll.body.imported, 1);
    const inbox = await t.admin.json("GET", "/api/v1/inbox");
    assert.equal(inbox.body.tickets[0].subject, "Sent to an OAuth2 mailbox");
    // Dovecot asked the provider about our token, and it was live
    const checks = await seen(t.oauthClient.client_id, "/introspect");
    assert.ok(checks.some((e) => e.active === true && e.username === U.user));
    // no refresh was needed: the token from the code exchange has an hour left
    assert.equal((await seen(t.oauthClient.client_id, "/token", "refresh_token")).length, 0);
    // Dovecot offers XOAUTH2 and OAUTHBEARER: ours is XOAUTH2 (its log tells)
    if (stack.dir) assert.equal(await xoauth2(), before + 1);

    const health = await t.anon().json("GET", "/api/v1/health");
    assert.deepEqual(health.body.oauth2, {
      provider: "google",
      connected: true,
      access_token_set: true,
      error: null,
    });
    const tokens = await heldTokens(t);
    assert.equal(tokens.length, 2);
    assertNoSecret(
      [...t.logs, cb.html, JSON.stringify([st.body, settings, poll.body, health.body])],
      tokens,
    );
  } finally {
    await t.close();
    await box.close();
  }
});

Deno.test("[oauth2] Office 365: scopes, account from preferred_username, refresh before the poll", async () => {
  const box = await testBox(U);
  const t = await oauthApp(U, box, {
    style: "microsoft",
    // under the 5 minute margin: every poll refreshes first
    client: { expires_in: 120 },
  });
  try {
    const r = await t.admin.json("GET", "/api/v1/admin/imap/oauth2/auth-url?provider=office365");
    const url = new URL(r.body.url);
    assert.deepEqual(url.searchParams.get("scope")!.split(" ").sort(), [
      "email",
      "https://outlook.office.com/IMAP.AccessAsUser.All",
      "offline_access",
      "openid",
      "profile",
    ]);
    assert.equal(url.searchParams.get("code_challenge_method"), "S256");
    const cb = await authorise(t);
    assert.equal(cb.message.ok, true, cb.message.error);
    const st = (await t.admin.json("GET", "/api/v1/admin/imap/oauth2/status")).body;
    assert.equal(st.provider, "office365");
    assert.equal(st.account, U.user);

    await box.append(mail({ subject: "Office mail" }));
    const poll = await t.admin.json("POST", "/api/v1/admin/imap/poll");
    assert.equal(poll.body.ok, true, poll.body.error);
    assert.equal(poll.body.imported, 1);
    const refreshes = await seen(t.oauthClient.client_id, "/token", "refresh_token");
    assert.equal(refreshes.length, 1, "a token with 2 minutes left is refreshed before the poll");
    assert.equal(refreshes[0].status, 200);
  } finally {
    await t.close();
    await box.close();
  }
});

Deno.test("[oauth2] Disconnect forgets the tokens, revokes Google's grant, auth back to plain", async () => {
  const t = await oauthApp(U, null);
  try {
    assert.equal((await authorise(t)).message.ok, true);
    const [refresh] = await heldTokens(t);
    const r = await t.admin.fetch("/api/v1/admin/imap/oauth2/disconnect", { method: "POST" });
    assert.equal(r.status, 204);
    assert.equal((await loadRecord(t.kv)).value, null);
    const st = (await t.admin.json("GET", "/api/v1/admin/imap/oauth2/status")).body;
    assert.equal(st.connected, false);
    assert.equal(st.access_token_set, false);
    assert.equal(st.account, null);
    const settings = (await t.admin.json("GET", "/api/v1/admin/imap")).body.settings;
    assert.equal(settings.auth, "plain");
    assert.equal((await seen(t.oauthClient.client_id, "/revoke")).length, 1);
    // the refresh token is dead at the provider too
    const res = await fetch(`${provider.url}/token`, {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: refresh,
        client_id: t.oauthClient.client_id,
        client_secret: t.oauthClient.client_secret,
      }),
    });
    assert.equal((await res.json()).error, "invalid_grant");
    const health = await t.anon().json("GET", "/api/v1/health");
    assert.equal(health.body.oauth2, undefined, "no OAuth2 part once password auth is back");
  } finally {
    await t.close();
  }
});
