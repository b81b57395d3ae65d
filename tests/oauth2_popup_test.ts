/**
 * The Authorise popup in a real Chromium: the callback page reaches the settings page through
 * `window.opener.postMessage` (the popup came back from another origin, so this needs the
 * callback's `Cross-Origin-Opener-Policy: unsafe-none`), and closes itself. The UI side
 * (connected state without reload, refusal, closed popup) is in tests/ui_oauth_test.ts.
 */
import assert from "node:assert/strict";
import { ADMIN, startTestApp } from "./support/app.ts";
import { startOAuthProvider, uniqueClient } from "./support/oauth_provider.ts";
import { hydrated, openBrowser, signIn } from "./ui_support.ts";

type Seen = { via: string; data: unknown }[];

Deno.test("[oauth2 popup] the callback posts to its opener and closes itself", async () => {
  const provider = startOAuthProvider();
  const client = await uniqueClient(provider, { account: "desk@gmail.example" });
  const t = await startTestApp({
    start: false,
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
    const { page } = b;
    await signIn(page, t.url, ADMIN.email, ADMIN.password);
    await page.goto(`${t.url}/admin/settings`);
    await hydrated(page);
    await page.evaluate(() => {
      const seen: Seen = [];
      (globalThis as unknown as { __seen: Seen }).__seen = seen;
      addEventListener("message", (e) => {
        if (e.origin === location.origin) seen.push({ via: "opener", data: e.data });
      });
    });
    const form = page.locator("form[aria-label='Incoming Mail']");
    await form.locator("select[name=auth]").selectOption("oauth2");
    await form.locator("select[name=provider]").selectOption("google");
    const [popup] = await Promise.all([
      page.waitForEvent("popup"),
      form.locator("button:has-text('Authorise')").click(),
    ]);
    await popup.waitForEvent("close", { timeout: 15_000 });
    const seen = await page.evaluate(() => (globalThis as unknown as { __seen: Seen }).__seen);
    assert.deepEqual(seen, [{
      via: "opener",
      data: { type: "warmdesk-oauth2", ok: true, provider: "google" },
    }]);
    assert.deepEqual(b.problems, []);
  } finally {
    await b.close();
    await t.close();
    await provider.close();
  }
});
