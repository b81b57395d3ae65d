/**
 * Mail into an open browser, against the real Dovecot of `deno task test`: a mail APPENDed to the
 * mailbox and polled shows up in the open Inbox with the badge, without a reload; the Settings
 * page's Test connection and Poll now report what the server said; a customer's reply to an open
 * ticket lands under the earlier messages while the agent's draft stays.
 */
import assert from "node:assert/strict";
import { appFor, mail, mailUser, newId, pollNow, testBox } from "./imap_helpers.ts";
import {
  assertNoReload,
  badgeIs,
  hydrated,
  markNoReload,
  openBrowser,
  signInLive,
} from "./ui_support.ts";
import { screenshot } from "./support/browser.ts";

Deno.test("[ui mail] polled mail reaches an open Inbox and ticket live; Test and Poll now report", async () => {
  const box = await testBox(mailUser(19));
  const t = await appFor(box);
  const b = await openBrowser();
  try {
    const { page } = b;
    await signInLive(page, t.url);
    await markNoReload(page);

    const firstId = newId();
    await box.append(mail({
      subject: "Arrived over IMAP",
      from: "Ida Imap <ida@customer.example>",
      messageId: firstId,
      body: "Please help, it arrived by mail.",
    }));
    const r = await pollNow(t);
    assert.equal(r.imported, 1);
    await page.waitForSelector(".ticket-row:has-text('Arrived over IMAP')");
    await badgeIs(page, "1/1");
    assert.match(await page.locator(".ticket-row").first().textContent() ?? "", /Ida Imap.*✉/s);
    await assertNoReload(page);

    // the ticket, with a draft in progress, gets the customer's reply
    await page.click(".ticket-row a");
    await hydrated(page);
    await page.fill("#reply-text", "Draft while the customer writes again");
    await box.append(mail({
      subject: "Re: Arrived over IMAP",
      from: "Ida Imap <ida@customer.example>",
      inReplyTo: firstId,
      body: "Also, the paper is gone.",
    }));
    const r2 = await pollNow(t);
    assert.equal(r2.threaded, 1);
    await page.waitForSelector(".message:has-text('Also, the paper is gone.')");
    assert.deepEqual(
      (await page.locator(".message .message-body").allTextContents()).map((s) => s.trim()),
      ["Please help, it arrived by mail.", "Also, the paper is gone."],
    );
    assert.equal(await page.inputValue("#reply-text"), "Draft while the customer writes again");

    // Settings: Test connection with the saved values, then Poll now
    const settings = await b.newPage();
    await settings.goto(`${t.url}/admin/settings`);
    await hydrated(settings);
    const form = settings.locator("form[aria-label='Incoming Mail']");
    await form.locator("input[name=host]").waitFor();
    assert.match(
      await form.locator("input[name=password]").getAttribute("placeholder") ?? "",
      /saved/,
    );
    await form.locator("button:has-text('Test connection')").click();
    await settings.waitForSelector("text=Connection OK.");
    assert.match(await form.locator("[data-results=imap]").textContent() ?? "", /IMAP4rev1/i);
    assert.match(await form.locator("[data-results=imap]").textContent() ?? "", /exists/);
    await box.append(mail({ subject: "Third one", from: "Tom <tom@other.example>" }));
    await form.locator("button:has-text('Poll now')").click();
    await settings.waitForSelector("text=Poll finished.");
    assert.match(await form.locator("[data-results=imap]").textContent() ?? "", /Imported 1/);
    await settings.waitForSelector("[data-last-poll]:has-text('OK')");
    await screenshot(settings, "settings_polled");
    // and the first page saw that one arrive too
    await badgeIs(page, "1/2");
    assert.deepEqual(b.problems, []);
  } finally {
    await b.close();
    await t.close();
    await box.close();
  }
});
