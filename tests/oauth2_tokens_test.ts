/**
 * OAuth2 token life against the stack's fake provider and Dovecot: refresh before a poll,
 * rotation, a refused grant (visible, no hammering, the app keeps running, a new Authorise
 * recovers), backoff after a transient failure, one refresh for concurrent callers, and no
 * token in any answer or log line. Run with the stack: `deno task test tests/oauth2_tokens_test.ts`.
 */
import assert from "node:assert/strict";
import { mail, mailUser, testBox } from "./imap_helpers.ts";
import {
  assertNoSecret,
  authorise,
  heldTokens,
  oauthApp,
  provider,
  seen,
} from "./oauth2_support.ts";
import { loadRecord, saveRecord } from "../lib/mail/oauth2_store.ts";
import type { OAuthAccess } from "../lib/mail/oauth2.ts";

const U = mailUser(19);

Deno.test("[oauth2 tokens] near expiry the poll refreshes first, and a rotated refresh token is kept", async () => {
  const box = await testBox(U);
  // 2 minutes of life is inside the 5 minute margin: each poll refreshes
  const t = await oauthApp(U, box, { client: { expires_in: 120, rotate: true } });
  const answers: string[] = [];
  try {
    assert.equal((await authorise(t)).message.ok, true);
    const [first] = await heldTokens(t);
    for (const [i, subject] of ["First", "Second"].entries()) {
      await box.append(mail({ subject }));
      const poll = await t.admin.json("POST", "/api/v1/admin/imap/poll");
      answers.push(JSON.stringify(poll.body));
      assert.equal(poll.body.ok, true, poll.body.error);
      assert.equal(poll.body.imported, 1);
      assert.equal((await seen(t.oauthClient.client_id, "/token", "refresh_token")).length, i + 1);
    }
    const [latest] = await heldTokens(t);
    assert.notEqual(latest, first, "the rotated refresh token was saved");
    // the provider revoked the first one when it rotated it
    const res = await fetch(`${provider.url}/token`, {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: first,
        client_id: t.oauthClient.client_id,
        client_secret: t.oauthClient.client_secret,
      }),
    });
    assert.equal((await res.json()).error, "invalid_grant");
    const st = await t.admin.json("GET", "/api/v1/admin/imap/oauth2/status");
    answers.push(JSON.stringify(st.body));
    assert.equal(st.body.connected, true);
    assert.equal(st.body.error, null);
    assert.ok(st.body.refreshed_at);
    assertNoSecret([...t.logs, ...answers], [first, ...await heldTokens(t)]);
  } finally {
    await t.close();
    await box.close();
  }
});

Deno.test("[oauth2 tokens] invalid_grant: shown in status and health, no retries, a new Authorise recovers", async () => {
  const box = await testBox(U);
  const t = await oauthApp(U, box, { client: { expires_in: 120 } });
  const answers: string[] = [];
  try {
    assert.equal((await authorise(t)).message.ok, true);
    const tokens = await heldTokens(t);
    await provider.control({ client_id: t.oauthClient.client_id, fail_refresh: "invalid_grant" });
    await box.append(mail({ subject: "Waiting for a working token" }));
    for (let i = 0; i < 3; i++) {
      const poll = await t.admin.json("POST", "/api/v1/admin/imap/poll");
      answers.push(JSON.stringify(poll.body));
      assert.equal(poll.status, 200);
      assert.equal(poll.body.ok, false);
      assert.match(poll.body.error, /invalid_grant/);
    }
    // one attempt only: the grant is dead until a new Authorise
    assert.equal((await seen(t.oauthClient.client_id, "/token", "refresh_token")).length, 1);
    const st = await t.admin.json("GET", "/api/v1/admin/imap/oauth2/status");
    answers.push(JSON.stringify(st.body));
    assert.equal(st.body.connected, false);
    assert.equal(st.body.access_token_set, false);
    assert.match(st.body.error, /invalid_grant/);
    assert.match(st.body.error, /Authorise again/);
    const health = await t.anon().json("GET", "/api/v1/health");
    answers.push(JSON.stringify(health.body));
    assert.equal(health.status, 200, "a mailbox problem does not make the app unhealthy");
    assert.match(health.body.oauth2.error, /invalid_grant/);
    assert.equal(health.body.oauth2.connected, false);
    const settings = (await t.admin.json("GET", "/api/v1/admin/imap")).body.settings;
    assert.match(settings.last_poll.error, /invalid_grant/);
    // the rest of the app is fine
    assert.equal((await t.admin.json("GET", "/api/v1/inbox")).status, 200);

    await provider.control({ client_id: t.oauthClient.client_id, fail_refresh: null });
    assert.equal((await authorise(t)).message.ok, true);
    const again = (await t.admin.json("GET", "/api/v1/admin/imap/oauth2/status")).body;
    assert.equal(again.connected, true);
    assert.equal(again.error, null);
    const poll = await t.admin.json("POST", "/api/v1/admin/imap/poll");
    assert.equal(poll.body.ok, true, poll.body.error);
    assert.equal(poll.body.imported, 1);
    assertNoSecret([...t.logs, ...answers], [...tokens, ...await heldTokens(t)]);
  } finally {
    await t.close();
    await box.close();
  }
});

Deno.test("[oauth2 tokens] a transient refresh failure backs off and keeps using a token that still works", async () => {
  const box = await testBox(U);
  const t = await oauthApp(U, box, {
    client: { expires_in: 120, fail_refresh: "temporarily_unavailable" },
  });
  try {
    assert.equal((await authorise(t)).message.ok, true);
    const refreshes = async () =>
      (await seen(t.oauthClient.client_id, "/token", "refresh_token")).length;
    for (let i = 0; i < 2; i++) {
      const poll = await t.admin.json("POST", "/api/v1/admin/imap/poll");
      assert.equal(poll.body.ok, true, "the unexpired token still opens the mailbox");
    }
    assert.equal(await refreshes(), 1, "the second poll waited for the backoff");
    const st = (await t.admin.json("GET", "/api/v1/admin/imap/oauth2/status")).body;
    assert.equal(st.connected, true);
    assert.match(st.error, /temporarily_unavailable/);
    assert.ok(Date.parse(st.retry_at) > Date.now());

    // the backoff is over and the provider is back: the error clears
    await provider.control({ client_id: t.oauthClient.client_id, fail_refresh: null });
    const e = await loadRecord(t.kv);
    assert.equal(e.value!.failures, 1);
    await saveRecord(t.kv, e, { ...e.value!, retry_at: new Date(Date.now() - 1).toISOString() });
    const poll = await t.admin.json("POST", "/api/v1/admin/imap/poll");
    assert.equal(poll.body.ok, true, poll.body.error);
    assert.equal(await refreshes(), 2);
    const after = (await t.admin.json("GET", "/api/v1/admin/imap/oauth2/status")).body;
    assert.equal(after.error, null);
    assert.equal(after.retry_at, null);
  } finally {
    await t.close();
    await box.close();
  }
});

Deno.test("[oauth2 tokens] concurrent callers share one refresh; the SASL user is the IMAP username", async () => {
  const t = await oauthApp(U, null, { client: { expires_in: 120, rotate: true } });
  try {
    assert.equal((await authorise(t)).message.ok, true);
    const hook = t.app.svc.ext.oauthAccessToken as (s: unknown) => Promise<OAuthAccess>;
    const got = await Promise.all(Array.from({ length: 5 }, () => hook(t.app.svc)));
    assert.equal((await seen(t.oauthClient.client_id, "/token", "refresh_token")).length, 1);
    assert.equal(new Set(got.map((g) => g.accessToken)).size, 1);
    assert.equal(got[0].user, U.user);
    assert.equal(got[0].accessToken, (await heldTokens(t))[1]);
  } finally {
    await t.close();
  }
});
