/**
 * The OAuth2 callback without an admin session: the popup gets the callback's HTML page with a
 * clear message (not the guard's JSON), and nothing is weakened. An anonymous or non-admin caller
 * neither completes the flow nor uses up the admin's state, and the state still completes only
 * for the admin session that asked for it. Runs against an in-process fake provider.
 */
import assert from "node:assert/strict";
import { agentClient } from "./support/app.ts";
import { callback, consent, localOAuthApp, stateCount } from "./oauth2_support.ts";
import { accessFor } from "../lib/auth/guard.ts";

const CALLBACK = "/api/v1/admin/imap/oauth2/callback";

Deno.test("[oauth2 callback] without an admin session the popup gets a page, and the state stays the admin's", async () => {
  const t = await localOAuthApp({ account: "desk@gmail.example", consent: "auto" }, {
    start: false,
  });
  try {
    const admin = await t.client();
    const agent = await agentClient(t);
    const r = await admin.json("GET", "/api/v1/admin/imap/oauth2/auth-url?provider=google");
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const back = await consent(r.body.url);
    assert.equal(await stateCount(t), 1);

    // no session at all (it ended while the popup was at the provider): the callback page
    for (const path of [back, CALLBACK, CALLBACK + "?code=x&state=y"]) {
      const anon = await callback(t.anon(), path);
      assert.equal(anon.status, 401, path);
      assert.match(anon.headers.get("content-type") ?? "", /^text\/html/);
      assert.equal(anon.headers.get("cross-origin-opener-policy"), "unsafe-none");
      // the inline script runs under the request's nonce
      const nonce = /script-src[^;]*'nonce-([^']+)'/.exec(
        anon.headers.get("content-security-policy") ?? "",
      )?.[1];
      assert.ok(nonce, "a CSP with a nonce");
      assert.ok(anon.html.includes(`<script nonce="${nonce}">`));
      assert.deepEqual(anon.message, {
        type: "warmdesk-oauth2",
        ok: false,
        error: "Sign in to WarmDesk as an admin, then try Authorise again.",
      });
      assert.match(anon.html, /<p role="alert">Sign in to WarmDesk as an admin/);
    }
    // a stale or forged cookie is no session either
    const forged = t.anon();
    forged.cookie = admin.cookie!.replace(/=.*/, "=not-a-session");
    assert.equal((await callback(forged, back)).status, 401);

    // a signed-in agent: told that admins only, nothing completed
    const ag = await callback(agent, back);
    assert.equal(ag.status, 403);
    assert.match(ag.headers.get("content-type") ?? "", /^text\/html/);
    assert.equal(ag.message.ok, false);
    assert.match(ag.message.error, /Only an admin can connect a mailbox/);

    // none of them used the state up or connected anything
    assert.equal(await stateCount(t), 1);
    const before = await admin.json("GET", "/api/v1/admin/imap/oauth2/status");
    assert.equal(before.body.connected, false);

    // another session of the admin still cannot finish it (the state is bound to the session)
    const other = await t.client();
    const foreign = await callback(other, back);
    assert.equal(foreign.status, 200);
    assert.match(foreign.message.error, /another session/);
    // a fresh state for the admin's own session completes
    const r2 = await admin.json("GET", "/api/v1/admin/imap/oauth2/auth-url?provider=google");
    const ok = await callback(admin, await consent(r2.body.url));
    assert.equal(ok.status, 200);
    assert.equal(ok.message.ok, true, ok.message.error);
    const after = await admin.json("GET", "/api/v1/admin/imap/oauth2/status");
    assert.equal(after.body.connected, true);
    assert.equal(after.body.account, "desk@gmail.example");

    // only this one path is open; its neighbours stay admin-only
    assert.equal(accessFor(CALLBACK), "public");
    for (
      const [method, path] of [
        ["GET", "/api/v1/admin/imap/oauth2/auth-url?provider=google"],
        ["GET", "/api/v1/admin/imap/oauth2/status"],
        ["POST", "/api/v1/admin/imap/oauth2/disconnect"],
        ["GET", "/api/v1/admin/imap/oauth2/callbacks"],
        ["GET", "/api/v1/admin/imap"],
      ]
    ) {
      assert.equal(accessFor(path.split("?")[0]), "admin", path);
      assert.equal((await t.anon().json(method, path)).status, 401, `${method} ${path}`);
      assert.equal((await agent.json(method, path)).status, 403, `${method} ${path}`);
    }
  } finally {
    await t.close();
  }
});
