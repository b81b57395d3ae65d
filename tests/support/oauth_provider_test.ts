// Self-tests of the fake OAuth2 provider: the flow, refresh/rotation, failure switches, and that
// Dovecot (through the provider started by mailstack.sh) accepts its tokens for XOAUTH2 and OAUTHBEARER.
import assert from "node:assert/strict";
import { imapOAuthClient, mailEnv, oauthProvider, takeUser } from "./mailstack.ts";
import {
  decodeJwt,
  runAuthorizationFlow,
  startOAuthProvider,
  uniqueClient,
} from "./oauth_provider.ts";

/** Raw AUTHENTICATE on the stack's IMAP port; answers the tagged reply line. */
async function rawAuth(mech: "XOAUTH2" | "OAUTHBEARER", user: string, token: string) {
  const port = mailEnv().imapPort;
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const enc = new TextEncoder(), dec = new TextDecoder();
  let buf = "";
  const readLine = async () => {
    while (!buf.includes("\r\n")) {
      const chunk = new Uint8Array(4096);
      const n = await conn.read(chunk);
      if (n === null) throw new Error("eof");
      buf += dec.decode(chunk.subarray(0, n));
    }
    const i = buf.indexOf("\r\n");
    const line = buf.slice(0, i);
    buf = buf.slice(i + 2);
    return line;
  };
  try {
    await readLine(); // greeting
    const ir = mech === "XOAUTH2"
      ? btoa(`user=${user}\x01auth=Bearer ${token}\x01\x01`)
      : btoa(`n,a=${user},\x01host=127.0.0.1\x01port=${port}\x01auth=Bearer ${token}\x01\x01`);
    await conn.write(enc.encode(`a1 AUTHENTICATE ${mech} ${ir}\r\n`));
    let line = await readLine();
    if (line.startsWith("+")) { // error challenge: the client must answer before the NO
      await conn.write(enc.encode(mech === "XOAUTH2" ? "\r\n" : btoa("\x01") + "\r\n"));
      line = await readLine();
    }
    while (line.startsWith("*")) line = await readLine();
    await conn.write(enc.encode("a2 LOGOUT\r\n"));
    return line;
  } finally {
    conn.close();
  }
}

Deno.test("[oauth] authorize -> token with PKCE gives tokens Dovecot accepts (XOAUTH2, OAUTHBEARER)", async () => {
  await using u = await takeUser();
  const ctl = oauthProvider();
  const client = await uniqueClient(ctl, { account: u.email });
  const flow = await runAuthorizationFlow(ctl.url, client);
  assert.equal(flow.claims.email, u.email);
  assert.equal(flow.claims.aud, client.client_id);
  assert.ok(flow.tokens.refresh_token);
  for (const mech of ["XOAUTH2", "OAUTHBEARER"] as const) {
    assert.match(await rawAuth(mech, u.email, flow.tokens.access_token), /^a1 OK/, mech);
    assert.match(await rawAuth(mech, u.email, "at-bogus"), /^a1 NO/, `${mech} bogus token`);
  }
  // a token is bound to its account
  assert.match(
    await rawAuth("XOAUTH2", `alice@${mailEnv().domain}`, flow.tokens.access_token),
    /^a1 NO/,
  );
  // imapflow's own SASL path works too
  const c = imapOAuthClient(u.email, flow.tokens.access_token, "starttls");
  await c.connect();
  assert.ok(c.authenticated);
  await c.logout();
  const log = await ctl.log(client.client_id);
  assert.ok(
    log.some((e) => e.path === "/introspect" && e.active === true && e.username === u.email),
  );
  assert.ok(!JSON.stringify(log).includes(flow.tokens.access_token), "log must not hold tokens");
});

Deno.test("[oauth] client auth by body or Basic; wrong secret, verifier or redirect is refused", async () => {
  const p = startOAuthProvider();
  try {
    const client = await uniqueClient(p, {
      redirect_uris: ["http://127.0.0.1:8000/api/v1/admin/imap/oauth2/callback"],
    });
    assert.ok((await runAuthorizationFlow(p.url, { ...client, auth: "body" })).tokens.access_token);
    assert.ok((await runAuthorizationFlow(p.url, client)).tokens.access_token);
    await assert.rejects(
      () => runAuthorizationFlow(p.url, { ...client, client_secret: "nope" }),
      /invalid_client/,
    );
    await assert.rejects(
      () => runAuthorizationFlow(p.url, { ...client, redirect_uri: "http://evil.example/cb" }),
      /authorize answered 400/,
    );
    // a tampered verifier: replay the code with another verifier
    const q = new URLSearchParams({
      response_type: "code",
      client_id: client.client_id,
      redirect_uri: client.redirect_uris[0],
      state: "s1",
      scope: "openid",
      code_challenge: "x".repeat(43),
      code_challenge_method: "S256",
    });
    const r = await fetch(`${p.url}/authorize?${q}`, { redirect: "manual" });
    await r.body?.cancel();
    const code = new URL(r.headers.get("location")!).searchParams.get("code")!;
    const t = await fetch(`${p.url}/token`, {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code,
        redirect_uri: client.redirect_uris[0],
        code_verifier: "wrong-verifier-wrong-verifier-wrong-verifier",
        client_id: client.client_id,
        client_secret: client.client_secret,
      }),
    });
    assert.equal(t.status, 400);
    assert.equal((await t.json()).error, "invalid_grant");
  } finally {
    await p.close();
  }
});

Deno.test("[oauth] consent deny answers error=access_denied with the state", async () => {
  const p = startOAuthProvider();
  try {
    const client = await uniqueClient(p, { consent: "deny" });
    await assert.rejects(() => runAuthorizationFlow(p.url, client), /access_denied/);
    assert.equal((await p.log(client.client_id))[0].error, "access_denied");
  } finally {
    await p.close();
  }
});

async function refresh(url: string, c: { client_id: string; client_secret: string }, rt: string) {
  const res = await fetch(`${url}/token`, {
    method: "POST",
    headers: { authorization: `Basic ${btoa(`${c.client_id}:${c.client_secret}`)}` },
    body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: rt }),
  });
  return { status: res.status, body: await res.json() };
}

Deno.test("[oauth] refresh keeps the refresh token; rotation replaces and kills the old one", async () => {
  const p = startOAuthProvider();
  try {
    const client = await uniqueClient(p, { expires_in: 120 });
    const { tokens } = await runAuthorizationFlow(p.url, client);
    const r1 = await refresh(p.url, client, tokens.refresh_token!);
    assert.equal(r1.status, 200);
    assert.equal(r1.body.expires_in, 120);
    assert.equal(r1.body.refresh_token, undefined, "Google style: no new refresh token");
    assert.notEqual(r1.body.access_token, tokens.access_token);

    await p.control({ client_id: client.client_id, rotate: true, style: "microsoft" });
    const r2 = await refresh(p.url, client, tokens.refresh_token!);
    assert.ok(r2.body.refresh_token && r2.body.refresh_token !== tokens.refresh_token);
    assert.equal(decodeJwt(r2.body.id_token).preferred_username, "alice@example.test");
    assert.equal((await refresh(p.url, client, tokens.refresh_token!)).body.error, "invalid_grant");
    assert.equal((await refresh(p.url, client, r2.body.refresh_token)).status, 200);

    await p.control({ client_id: client.client_id, fail_refresh: "invalid_grant" });
    assert.equal((await refresh(p.url, client, r2.body.refresh_token)).status, 400);
  } finally {
    await p.close();
  }
});

Deno.test("[oauth] expire_access and revoke end introspection; HS256 id tokens verify", async () => {
  const p = startOAuthProvider();
  try {
    const client = await uniqueClient(p, { id_token_alg: "HS256", account: "user9@example.test" });
    const t = await p.mintToken({ client_id: client.client_id });
    const introspect = async (token: string) =>
      (await (await fetch(`${p.url}/introspect`, {
        method: "POST",
        body: new URLSearchParams({ token }),
      })).json()).active;
    assert.equal(await introspect(t.access_token), true);
    await p.control({ client_id: client.client_id, expire_access: true });
    assert.equal(await introspect(t.access_token), false);
    const r = await refresh(p.url, client, t.refresh_token!);
    assert.equal(await introspect(r.body.access_token), true);
    const rev = await fetch(`${p.url}/revoke`, {
      method: "POST",
      body: new URLSearchParams({ token: t.refresh_token! }),
    });
    await rev.body?.cancel();
    assert.equal(await introspect(r.body.access_token), false, "revoking the refresh token");

    const [h, b, s] = r.body.id_token.split(".");
    const key = await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(client.client_secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["verify"],
    );
    const sig = Uint8Array.from(
      atob(s.replace(/-/g, "+").replace(/_/g, "/")),
      (ch) => ch.charCodeAt(0),
    );
    assert.ok(
      await crypto.subtle.verify("HMAC", key, sig, new TextEncoder().encode(`${h}.${b}`)),
    );
  } finally {
    await p.close();
  }
});
