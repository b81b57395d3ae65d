/**
 * The OAuth2 part of Admin → Settings → Incoming Mail in a real Chromium, against the local fake
 * provider: Authorise opens the popup, the fake consents, the popup closes and the page shows
 * the mailbox connected without a reload; a refusal and a missing configuration each show a
 * clear message. Skipped (with a note) while the OAuth2 routes are not in the app.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { ADMIN, startTestApp, type TestApp } from "./support/app.ts";
import { startOAuthProvider, uniqueClient } from "./support/oauth_provider.ts";
import { hydrated, openBrowser, shot, signIn } from "./ui_support.ts";

async function hasOAuthRoutes(t: TestApp): Promise<boolean> {
  const r = await (await t.client()).json("GET", "/api/v1/admin/imap/oauth2/status");
  if (r.status === 404) {
    console.warn("OAuth2 routes are not in the app yet: test skipped");
    return false;
  }
  return true;
}

/** Open the settings page and switch Incoming Mail to OAuth2 with Google. */
async function chooseOAuth(page: Page, base: string) {
  await signIn(page, base, ADMIN.email, ADMIN.password);
  await page.goto(`${base}/admin/settings`);
  await hydrated(page);
  const form = page.locator("form[aria-label='Incoming Mail']");
  await form.locator("select[name=auth]").selectOption("oauth2");
  await form.locator("select[name=provider]").selectOption("google");
  return form;
}

Deno.test("[ui oauth] Authorise: popup, consent, closes, the page shows the mailbox connected", async () => {
  const provider = startOAuthProvider();
  const client = await uniqueClient(provider, { account: "desk@gmail.example", consent: "auto" });
  const t = await startTestApp({
    file: {
      oauth2: {
        google_client_id: client.client_id,
        google_client_secret: client.client_secret,
        google_auth_url: `${provider.url}/authorize`,
        google_token_url: `${provider.url}/token`,
      },
    },
  });
  const b = await openBrowser();
  try {
    if (!(await hasOAuthRoutes(t))) return;
    const { page } = b;
    const form = await chooseOAuth(page, t.url);
    await page.evaluate(() => (globalThis as unknown as { __kept: number }).__kept = 1);
    const [popup] = await Promise.all([
      page.waitForEvent("popup"),
      form.locator("button:has-text('Authorise')").click(),
    ]);
    await popup.waitForEvent("close", { timeout: 15_000 });
    await page.waitForSelector("[data-oauth-connected]");
    assert.match(await form.locator("[data-oauth]").textContent() ?? "", /desk@gmail\.example/);
    assert.match(await form.locator("[data-oauth]").textContent() ?? "", /Mailbox connected/);
    assert.equal(
      await page.evaluate(() => (globalThis as unknown as { __kept?: number }).__kept),
      1,
      "the page was not reloaded",
    );
    await shot(page, "oauth_connected");
    const status = await (await t.client()).json("GET", "/api/v1/admin/imap/oauth2/status");
    assert.equal(status.body.connected, true);

    await form.locator("button:has-text('Disconnect')").click();
    await page.waitForSelector("text=Disconnected.");
    assert.equal(await page.locator("[data-oauth-connected]").count(), 0);
    // the server set auth back to plain; the form follows
    assert.equal(await form.locator("select[name=auth]").inputValue(), "plain");
    assert.deepEqual(b.problems, []);
  } finally {
    await b.close();
    await t.close();
    await provider.close();
  }
});

Deno.test("[ui oauth] a refused consent and a closed popup each give a clear message", async () => {
  const provider = startOAuthProvider();
  const client = await uniqueClient(provider, { consent: "deny" });
  const t = await startTestApp({
    file: {
      oauth2: {
        google_client_id: client.client_id,
        google_client_secret: client.client_secret,
        google_auth_url: `${provider.url}/authorize`,
        google_token_url: `${provider.url}/token`,
      },
    },
  });
  const b = await openBrowser();
  try {
    if (!(await hasOAuthRoutes(t))) return;
    const { page } = b;
    const form = await chooseOAuth(page, t.url);
    const [popup] = await Promise.all([
      page.waitForEvent("popup"),
      form.locator("button:has-text('Authorise')").click(),
    ]);
    await popup.waitForEvent("close", { timeout: 15_000 });
    await page.waitForSelector("[data-oauth] [role=alert]");
    assert.match(
      await form.locator("[data-oauth] [role=alert]").last().textContent() ?? "",
      /Authori[sz]ation (failed|cancelled)/,
    );

    // the admin closes the window themselves: said so, nothing connected
    await provider.control({ client_id: client.client_id, consent: "auto" });
    // hold the popup on a consent page that never answers
    await b.context.route(
      `${provider.url}/authorize**`,
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
    await provider.close();
  }
});

Deno.test("[ui oauth] without client credentials choosing OAuth2 shows the configuration error", async () => {
  const t = await startTestApp();
  const b = await openBrowser();
  try {
    if (!(await hasOAuthRoutes(t))) return;
    const { page } = b;
    const form = await chooseOAuth(page, t.url);
    const err = form.locator("[data-oauth] [role=alert]:has-text('not configured')");
    await err.waitFor();
    assert.match(await err.textContent() ?? "", /google_client_id/);
    await shot(page, "oauth_not_configured");
    // password sign-in is untouched
    await form.locator("select[name=auth]").selectOption("plain");
    assert.equal(await form.locator("input[name=password]").count(), 1);
  } finally {
    await b.close();
    await t.close();
  }
});
