/**
 * The OAuth2 part of Admin → Settings → Incoming Mail in a real Chromium, against the local fake
 * provider: Authorise opens the popup, the fake consents, the popup closes and the page shows
 * the mailbox connected without a reload; a refusal and a missing configuration each show a
 * clear message; the result also arrives through the BroadcastChannel when the popup lost its
 * opener. Choosing OAuth2 writes nothing: `auth-url` (which records a state) is asked for only
 * when Authorise is clicked. Skipped (with a note) while the OAuth2 routes are not in the app.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { startTestApp, type TestApp } from "./support/app.ts";
import { localOAuthApp, stateCount } from "./oauth2_support.ts";
import {
  assertNoReload,
  authoriseInPopup,
  chooseOAuth,
  markNoReload,
  openBrowser,
} from "./ui_support.ts";
import { screenshot } from "./support/browser.ts";

async function hasOAuthRoutes(t: TestApp): Promise<boolean> {
  const r = await (await t.client()).json("GET", "/api/v1/admin/imap/oauth2/status");
  if (r.status === 404) {
    console.warn("OAuth2 routes are not in the app yet: test skipped");
    return false;
  }
  return true;
}

/** Paths of the auth-url requests the page makes (each one records a state). */
function authUrlRequests(page: Page): string[] {
  const seen: string[] = [];
  page.on("request", (r) => {
    if (r.url().includes("/oauth2/auth-url")) seen.push(new URL(r.url()).pathname);
  });
  return seen;
}

Deno.test("[ui oauth] Authorise: popup, consent, closes, the page shows the mailbox connected", async () => {
  const t = await localOAuthApp({ account: "desk@gmail.example", consent: "auto" });
  const b = await openBrowser();
  try {
    if (!(await hasOAuthRoutes(t))) return;
    const { page } = b;
    const authUrls = authUrlRequests(page);
    const form = await chooseOAuth(page, t.url);
    await form.locator("button:has-text('Authorise with Google'):enabled").waitFor();
    // choosing OAuth2 and a provider asked for no URL and recorded no state
    assert.deepEqual(authUrls, []);
    assert.equal(await stateCount(t), 0);
    await markNoReload(page);
    await authoriseInPopup(form);
    await page.waitForSelector("[data-oauth-connected]");
    assert.match(await form.locator("[data-oauth]").textContent() ?? "", /desk@gmail\.example/);
    assert.match(await form.locator("[data-oauth]").textContent() ?? "", /Mailbox connected/);
    await assertNoReload(page);
    await screenshot(page, "oauth_connected");
    const status = await (await t.client()).json("GET", "/api/v1/admin/imap/oauth2/status");
    assert.equal(status.body.connected, true);
    // one click, one URL; the callback used its state up
    assert.equal(authUrls.length, 1);
    assert.equal(await stateCount(t), 0);

    await form.locator("button:has-text('Disconnect')").click();
    await page.waitForSelector("text=Disconnected.");
    assert.equal(await page.locator("[data-oauth-connected]").count(), 0);
    // the server set auth back to plain; the form follows (once it has re-read the settings)
    await page.waitForFunction(() =>
      (document.querySelector(
        "form[aria-label='Incoming Mail'] select[name=auth]",
      ) as HTMLSelectElement | null)?.value === "plain"
    );
    assert.deepEqual(b.problems, []);
  } finally {
    await b.close();
    await t.close();
  }
});

Deno.test("[ui oauth] a refused consent and a closed popup each give a clear message", async () => {
  const t = await localOAuthApp({ consent: "deny" });
  const b = await openBrowser();
  try {
    if (!(await hasOAuthRoutes(t))) return;
    const { page } = b;
    const form = await chooseOAuth(page, t.url);
    await authoriseInPopup(form);
    await page.waitForSelector("[data-oauth] [role=alert]");
    assert.match(
      await form.locator("[data-oauth] [role=alert]").last().textContent() ?? "",
      /Authori[sz]ation (failed|cancelled)/,
    );

    // the admin closes the window themselves: said so, nothing connected
    await t.provider.control({ client_id: t.oauthClient.client_id, consent: "auto" });
    // hold the popup on a consent page that never answers
    await b.context.route(
      `${t.provider.url}/authorize**`,
      (r) => r.fulfill({ contentType: "text/html", body: "<p>Consent?</p>" }),
    );
    const [again] = await Promise.all([
      page.waitForEvent("popup"),
      form.locator("button:has-text('Authorise')").click(),
    ]);
    await again.close();
    await page.waitForSelector("text=the sign-in window was closed");
    assert.equal(await page.locator("[data-oauth-connected]").count(), 0);
  } finally {
    await b.close();
    await t.close();
  }
});

Deno.test("[ui oauth] without client credentials choosing OAuth2 shows the configuration error", async () => {
  const t = await startTestApp();
  const b = await openBrowser();
  try {
    if (!(await hasOAuthRoutes(t))) return;
    const { page } = b;
    const authUrls = authUrlRequests(page);
    const form = await chooseOAuth(page, t.url);
    const err = form.locator("[data-oauth] [role=alert]:has-text('not configured')");
    await err.waitFor();
    assert.match(
      await err.textContent() ?? "",
      /oauth2\.google_client_id, oauth2\.google_client_secret/,
    );
    // nothing to authorise with: the button says so by being disabled
    assert.equal(await form.locator("button:has-text('Authorise with Google')").isDisabled(), true);
    // the other provider names its own keys
    await form.locator("select[name=provider]").selectOption("office365");
    await form.locator("[data-oauth] [role=alert]:has-text('office_client_id')").waitFor();
    await form.locator("select[name=provider]").selectOption("google");
    await err.waitFor();
    await screenshot(page, "oauth_not_configured");
    // found out from the status route: no auth-url request, no state written
    assert.deepEqual(authUrls, []);
    assert.equal(await stateCount(t), 0);
    // password sign-in is untouched
    await form.locator("select[name=auth]").selectOption("plain");
    assert.equal(await form.locator("input[name=password]").count(), 1);
  } finally {
    await b.close();
    await t.close();
  }
});

Deno.test("[ui oauth] with the opener link cut, the result still arrives over the BroadcastChannel", async () => {
  const t = await localOAuthApp({ account: "cut@gmail.example", consent: "deny" });
  const b = await openBrowser();
  try {
    if (!(await hasOAuthRoutes(t))) return;
    // the callback page loses window.opener before its script runs: only the channel is left
    await b.context.addInitScript(() => {
      if (location.pathname.endsWith("/oauth2/callback")) {
        (globalThis as unknown as { opener: unknown }).opener = null;
      }
    });
    const { page } = b;
    const form = await chooseOAuth(page, t.url);
    // refused: the provider's error is shown, not "the window was closed" (which is all the
    // page could say without the message)
    await authoriseInPopup(form);
    const alert = form.locator("[data-oauth] [role=alert]:has-text('Authorisation failed')");
    await alert.waitFor();
    assert.match(await alert.textContent() ?? "", /not granted|access_denied/i);
    assert.equal(await page.locator("text=the sign-in window was closed").count(), 0);

    await t.provider.control({ client_id: t.oauthClient.client_id, consent: "auto" });
    await authoriseInPopup(form);
    await page.waitForSelector("[data-oauth-connected]");
    assert.match(await form.locator("[data-oauth]").textContent() ?? "", /cut@gmail\.example/);
    await screenshot(page, "oauth_broadcast_connected");
    assert.deepEqual(b.problems, []);
  } finally {
    await b.close();
    await t.close();
  }
});
