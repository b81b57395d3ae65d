/**
 * More of the pages in a real Chromium: Inbox paging with the cursor, a failed delivery with its
 * error and a working Retry button, attachments as links, and the layout at a phone's width.
 */
import assert from "node:assert/strict";
import { ADMIN, startTestApp } from "./support/app.ts";
import { emailTicket, hydrated, openBrowser, signIn, signInLive } from "./ui_support.ts";
import { screenshot } from "./support/browser.ts";
import { appendMessage, updateDelivery } from "../lib/db/messages.ts";
import { keys } from "../lib/db/keys.ts";

Deno.test("[ui pages] the Inbox pages with Older / Newest links", async () => {
  const t = await startTestApp({ start: false });
  const b = await openBrowser();
  try {
    for (let i = 1; i <= 53; i++) {
      await emailTicket(t.kv, {
        subject: `Question ${i}`,
        name: `Sender ${i}`,
        email: `s${i}@example.test`,
        text: "?",
      });
    }
    const { page } = b;
    await signIn(page, t.url, ADMIN.email, ADMIN.password);
    await hydrated(page);
    assert.equal(await page.locator(".ticket-row").count(), 50);
    assert.match(await page.locator(".ticket-row").first().textContent() ?? "", /Question 53/);
    assert.equal(await page.locator(".sidebar [data-badge=inbox]").textContent(), "53/53");
    await page.click("a:has-text('Older')");
    await page.waitForURL(/cursor=/);
    await hydrated(page);
    assert.deepEqual(
      await page.locator(".ticket-row .subject-text").allTextContents(),
      ["Question 3", "Question 2", "Question 1"],
    );
    assert.equal(await page.locator("a:has-text('Older')").count(), 0);
    await page.click("a:has-text('Newest')");
    await page.waitForURL((u) => u.pathname === "/inbox" && !u.search);
    assert.equal(await page.locator(".ticket-row").count(), 50);
    // a mangled cursor starts over instead of failing
    const res = await page.goto(`${t.url}/inbox?cursor=garbage`);
    assert.equal(res?.status(), 200);
    assert.equal(new URL(page.url()).search, "");
    assert.deepEqual(b.problems, []);
  } finally {
    await b.close();
    await t.close();
  }
});

Deno.test("[ui pages] a failed delivery shows its error and Retry queues it again", async () => {
  // no background workers: the outbox stays as the test sets it
  const t = await startTestApp({ start: false });
  const b = await openBrowser();
  try {
    const tk = await emailTicket(t.kv, {
      subject: "Bounce me",
      name: "Val Customer",
      email: "val@example.test",
      text: "Please reply",
    });
    const admin = await t.client();
    const sent = await admin.json("POST", `/api/v1/tickets/${tk.id}/messages`, {
      body: "Our answer",
    });
    assert.equal(sent.status, 201);
    const mid = sent.body.message.id as string;
    assert.equal(sent.body.message.via_email, true);
    // the worker gave up: the outbox record and the message say failed
    const ob = await t.kv.get<Record<string, unknown>>(keys.outbox(mid));
    assert.ok(ob.value, "outbox record");
    await t.kv.set(keys.outbox(mid), {
      ...ob.value,
      state: "failed",
      last_error: "550 5.1.1 mailbox unavailable",
    });
    await updateDelivery(t.kv, tk.id, mid, () => ({
      status: "failed",
      attempts: 9,
      error: "550 5.1.1 mailbox unavailable",
    }));

    const { page } = b;
    await signIn(page, t.url, ADMIN.email, ADMIN.password);
    await page.goto(`${t.url}/tickets/${tk.id}`);
    await hydrated(page);
    const msg = page.locator(`[data-message-id="${mid}"]`);
    assert.equal(await msg.locator("[data-delivery]").textContent(), "Not delivered");
    assert.match(
      await msg.locator(".delivery-note").textContent() ?? "",
      /550 5\.1\.1 mailbox unavailable/,
    );
    // the ✉ badge next to the author of a reply that goes out by email
    assert.equal(await msg.locator(".message-author .mail-mark").count(), 1);
    await screenshot(page, "ticket_failed_delivery");
    await msg.locator("button:has-text('Retry')").click();
    await page.waitForSelector("text=The email was queued again.");
    await page.waitForFunction(
      (id) =>
        document.querySelector(`[data-message-id="${id}"] [data-delivery]`)?.textContent ===
          "Queued",
      mid,
    );
    assert.equal(await msg.locator("button:has-text('Retry')").count(), 0);
    const stored = await t.kv.get<{ state: string }>(keys.outbox(mid));
    assert.equal(stored.value?.state, "queued");
    assert.deepEqual(b.problems, []);
  } finally {
    await b.close();
    await t.close();
  }
});

Deno.test("[ui pages] attachments are links; at phone width nothing overflows", async () => {
  const t = await startTestApp({ start: false });
  const b = await openBrowser({ width: 390, height: 844 });
  try {
    const tk = await emailTicket(t.kv, {
      subject: "A rather long subject line that has to wrap on a small phone screen somehow",
      name: "Lou Longname-With-Many-Parts",
      email: "lou.longname.with.many.parts@a-very-long-domain.example.test",
      text: "See the attached report.",
    });
    await appendMessage(t.kv, tk.id, {
      direction: "inbound",
      author_name: "Lou Longname-With-Many-Parts",
      author_email: "lou.longname.with.many.parts@a-very-long-domain.example.test",
      author_user_id: null,
      body_text: "Here is the file: https://example.test/" + "x".repeat(120),
      body_html: null,
      via_email: true,
      message_id: "<att@mail.example.test>",
      auto: false,
      attachments: [{
        filename: "report.pdf",
        content_type: "application/pdf",
        content: new TextEncoder().encode("%PDF-1.4 fake"),
        content_id: null,
        inline: false,
      }],
    }, {});
    const { page } = b;
    await signIn(page, t.url, ADMIN.email, ADMIN.password);
    await hydrated(page);
    const noOverflow = () =>
      page.evaluate(() => document.documentElement.scrollWidth <= innerWidth + 1);
    assert.equal(await noOverflow(), true, "inbox overflows");
    await screenshot(page, "narrow_inbox");
    await page.goto(`${t.url}/tickets/${tk.id}`);
    await hydrated(page);
    const link = page.locator(".attachment");
    assert.equal(await link.count(), 1);
    assert.match(await link.getAttribute("href") ?? "", /^\/api\/v1\/attachments\/[\w-]+$/);
    assert.match(await link.textContent() ?? "", /report\.pdf/);
    const file = await page.request.get(t.url + (await link.getAttribute("href")));
    assert.equal(file.status(), 200);
    assert.equal(await file.text(), "%PDF-1.4 fake");
    assert.equal(await noOverflow(), true, "ticket overflows");
    await screenshot(page, "narrow_ticket");
    await page.goto(`${t.url}/admin/settings`);
    await hydrated(page);
    await page.locator("form[aria-label='Outgoing Mail'] input[name=host]").waitFor();
    assert.equal(await noOverflow(), true, "settings overflow");
    await screenshot(page, "narrow_settings");
    assert.deepEqual(b.problems, []);
  } finally {
    await b.close();
    await t.close();
  }
});

Deno.test("[ui pages] New ticket from the Inbox survives live reloads and opens the ticket", async () => {
  const t = await startTestApp({ start: false });
  const b = await openBrowser();
  try {
    const { page } = b;
    await signInLive(page, t.url);
    await page.click("button:has-text('New ticket')");
    await page.fill("form[aria-label='New ticket'] input[name=subject]", "Phoned in");
    // the list around the form reloads in place: the half-filled form stays
    const mail = await emailTicket(t.kv, {
      subject: "Meanwhile by mail",
      name: "M",
      email: "m@example.test",
      text: "x",
    });
    await page.waitForSelector(`.ticket-row[data-ticket-id="${mail.id}"]`);
    assert.equal(
      await page.inputValue("form[aria-label='New ticket'] input[name=subject]"),
      "Phoned in",
    );
    await page.fill("form[aria-label='New ticket'] textarea[name=body]", "Customer called.");
    await Promise.all([
      page.waitForURL(/\/tickets\/\d+$/),
      page.click("button:has-text('Create ticket')"),
    ]);
    await hydrated(page);
    assert.match(await page.locator("h1").textContent() ?? "", /Phoned in/);
    assert.match(await page.locator("[data-meta]").textContent() ?? "", /In the Inbox/);
    assert.deepEqual(b.problems, []);
  } finally {
    await b.close();
    await t.close();
  }
});
