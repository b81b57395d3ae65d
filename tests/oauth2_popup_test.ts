/**
 * The Authorise popup in a real Chromium: the callback page reaches the settings page through
 * `window.opener.postMessage` (the popup came back from another origin, so this needs the
 * callback's `Cross-Origin-Opener-Policy: unsafe-none`), and closes itself. The UI side
 * (connected state without reload, refusal, closed popup) is in tests/ui_oauth_test.ts.
 */
import assert from "node:assert/strict";
import { localOAuthApp } from "./oauth2_support.ts";
import { authoriseInPopup, chooseOAuth, openBrowser } from "./ui_support.ts";

type Seen = { via: string; data: unknown }[];

Deno.test("[oauth2 popup] the callback posts to its opener and closes itself", async () => {
  const t = await localOAuthApp({ account: "desk@gmail.example" }, { start: false });
  const b = await openBrowser();
  try {
    const { page } = b;
    const form = await chooseOAuth(page, t.url);
    // listen before Authorise: only the callback page in the popup it opens posts messages
    await page.evaluate(() => {
      const seen: Seen = [];
      (globalThis as unknown as { __seen: Seen }).__seen = seen;
      addEventListener("message", (e) => {
        if (e.origin === location.origin) seen.push({ via: "opener", data: e.data });
      });
    });
    await authoriseInPopup(form);
    const seen = await page.evaluate(() => (globalThis as unknown as { __seen: Seen }).__seen);
    assert.deepEqual(seen, [{
      via: "opener",
      data: { type: "warmdesk-oauth2", ok: true, provider: "google" },
    }]);
    assert.deepEqual(b.problems, []);
  } finally {
    await b.close();
    await t.close();
  }
});
