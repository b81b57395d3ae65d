import assert from "node:assert/strict";
import {
  ArcticFetchError,
  generateCodeVerifier,
  OAuth2RequestError,
  UnexpectedResponseError,
} from "arctic";
import { buildConfig } from "../config.ts";
import {
  accountFromIdToken,
  authorizationUrl,
  classifyTokenError,
  endpoints,
} from "./oauth2_providers.ts";
import { callbackPage } from "./oauth2_page.ts";

const b64 = (o: unknown) =>
  btoa(JSON.stringify(o)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
const jwt = (claims: Record<string, unknown>) => `${b64({ alg: "none" })}.${b64(claims)}.`;

const config = buildConfig({
  base_url: "https://desk.example.com/",
  oauth2: {
    google_client_id: "gid",
    google_client_secret: "gsecret",
    office_client_id: "oid",
    office_client_secret: "osecret",
    office_auth_url: "http://127.0.0.1:9/tenant/authorize",
  },
}, () => undefined);

Deno.test("[oauth2 providers] endpoints: defaults, overrides, Google's revocation beside its token URL", () => {
  const g = endpoints(config.oauth2, "google");
  assert.equal(g.tokenUrl, "https://oauth2.googleapis.com/token");
  assert.equal(g.revokeUrl, "https://oauth2.googleapis.com/revoke");
  const local = buildConfig(
    { oauth2: { google_token_url: "http://127.0.0.1:9/g/token" } },
    () => undefined,
  );
  assert.equal(endpoints(local.oauth2, "google").revokeUrl, "http://127.0.0.1:9/g/revoke");
  assert.equal(endpoints(config.oauth2, "office365").revokeUrl, null);
});

Deno.test("[oauth2 providers] consent URLs: PKCE S256, redirect URI, provider extras, http endpoints allowed", () => {
  const verifier = generateCodeVerifier();
  const g = authorizationUrl(config, "google", "st-1", verifier, "desk@gmail.example");
  assert.equal(g.origin + g.pathname, "https://accounts.google.com/o/oauth2/v2/auth");
  const q = g.searchParams;
  assert.equal(q.get("response_type"), "code");
  assert.equal(q.get("client_id"), "gid");
  assert.equal(q.get("redirect_uri"), "https://desk.example.com/api/v1/admin/imap/oauth2/callback");
  assert.equal(q.get("state"), "st-1");
  assert.equal(q.get("code_challenge_method"), "S256");
  assert.notEqual(q.get("code_challenge"), verifier);
  assert.equal(q.get("access_type"), "offline");
  assert.equal(q.get("prompt"), "consent");
  assert.equal(q.get("login_hint"), "desk@gmail.example");
  assert.equal(q.get("client_secret"), null, "the secret never goes to the browser");

  const o = authorizationUrl(config, "office365", "st-2", verifier, null);
  assert.equal(o.href.startsWith("http://127.0.0.1:9/tenant/authorize?"), true);
  assert.match(o.searchParams.get("scope")!, /IMAP\.AccessAsUser\.All offline_access/);
  assert.equal(o.searchParams.get("access_type"), null);
  assert.equal(o.searchParams.get("login_hint"), null);
});

Deno.test("[oauth2 providers] account from the id token: email (Google), preferred_username (Microsoft)", () => {
  assert.equal(accountFromIdToken("google", jwt({ email: "a@gmail.example" })), "a@gmail.example");
  assert.equal(
    accountFromIdToken("office365", jwt({ preferred_username: "b@corp.example", email: "x@y.z" })),
    "b@corp.example",
  );
  assert.equal(
    accountFromIdToken("office365", jwt({ preferred_username: "not-an-address", email: "c@d.e" })),
    "c@d.e",
  );
  assert.equal(accountFromIdToken("google", jwt({ sub: "123" })), null);
  assert.equal(accountFromIdToken("google", "garbage"), null);
  assert.equal(accountFromIdToken("google", null), null);
});

Deno.test("[oauth2 providers] token errors: invalid_grant is permanent, outages are not", () => {
  const grant = classifyTokenError(
    "google",
    new OAuth2RequestError("invalid_grant", null, null, null),
  );
  assert.equal(grant.permanent, true);
  assert.match(
    grant.message,
    /Google refused the token request \(invalid_grant\).*Authorise again/,
  );
  const busy = classifyTokenError(
    "office365",
    new OAuth2RequestError("temporarily_unavailable", "try later", null, null),
  );
  assert.equal(busy.permanent, false);
  assert.match(busy.message, /Office 365 .*try later/);
  const net = classifyTokenError("google", new ArcticFetchError(new Error("connection refused")));
  assert.deepEqual([net.code, net.permanent], ["network", false]);
  const http = classifyTokenError("google", new UnexpectedResponseError(502));
  assert.deepEqual([http.code, http.permanent], ["http_502", false]);
});

Deno.test("[oauth2 page] the message is script-safe JSON under the nonce; text is escaped", () => {
  const html = callbackPage({
    ok: false,
    error: `</script><img src=x onerror=alert(1)> & "quotes"`,
    provider: "google",
  }, "n0nce");
  assert.equal((html.match(/<script/g) ?? []).length, 1);
  assert.match(html, /<script nonce="n0nce">/);
  assert.ok(!html.includes("<img"));
  const json = /var msg = (\{.*?\});\n/.exec(html)![1];
  assert.deepEqual(JSON.parse(json), {
    type: "warmdesk-oauth2",
    ok: false,
    error: `</script><img src=x onerror=alert(1)> & "quotes"`,
    provider: "google",
  });
  const ok = callbackPage({ ok: true, provider: "office365", account: "d@corp.example" }, "n");
  assert.match(ok, /Office 365 mailbox connected/);
  assert.match(ok, /d@corp\.example/);
});
