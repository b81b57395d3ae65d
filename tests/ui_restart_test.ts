/**
 * A real server restart in Chromium (issue 5): WarmDesk runs on a fixed loopback port with a KV
 * file; a signed-in browser has the Inbox open in one tab and a ticket with a typed draft in
 * another. The app is closed completely (the pages show the reconnecting mark), mail is stored in
 * the KV file while nothing serves it, and the app starts again on the same port and file. Both
 * pages reconnect by themselves and show what arrived meanwhile; the draft is untouched.
 */
import assert from "node:assert/strict";
import { startTestApp, type TestApp } from "./support/app.ts";
import {
  assertNoReload,
  badgeIs,
  emailTicket,
  hydrated,
  markNoReload,
  online,
  openBrowser,
  signInLive,
} from "./ui_support.ts";
import { screenshot } from "./support/browser.ts";
import { appendMessage } from "../lib/db/messages.ts";

/** The reconnect backoff grows while the server is down; wait generously (2 cores, --parallel). */
const WAIT = { timeout: 60_000 };

Deno.test("[ui restart] the server restarts: open pages reconnect, show what arrived, keep the draft", async () => {
  const dir = await Deno.makeTempDir({ prefix: "warmdesk_restart_" });
  const kvPath = `${dir}/warmdesk.kv`;
  let t: TestApp | null = await startTestApp({ kvPath });
  const port = Number(new URL(t.url).port);
  const b = await openBrowser();
  try {
    const first = await emailTicket(t.kv, {
      subject: "Printer on fire",
      name: "Kim Customer",
      email: "kim@example.test",
      text: "It smells of toner.",
    });
    const inbox = b.page;
    await signInLive(inbox, t.url, WAIT);
    const ticket = await b.newPage();
    await ticket.goto(`${t.url}/tickets/${first.id}`);
    await hydrated(ticket);
    await online(ticket, WAIT);
    const draft = "Dear Kim,\nplease unplug it first — ";
    await ticket.fill("#reply-text", draft);
    await ticket.evaluate(() =>
      (document.querySelector("#reply-text") as HTMLTextAreaElement).setSelectionRange(5, 5)
    );
    // the ticket page read it: nothing unread, one ticket
    await badgeIs(inbox, "0/1", WAIT);
    await badgeIs(ticket, "0/1", WAIT);
    await markNoReload(inbox);
    await markNoReload(ticket);
    await screenshot(inbox, "restart_1_before_inbox");
    await screenshot(ticket, "restart_1_before_ticket");

    // the whole app goes down: server, hub, KV handle
    await t.close();
    t = null;
    for (const page of [inbox, ticket]) {
      await page.waitForSelector(
        ".sidebar .live-status.is-connecting, .sidebar .live-status.is-offline",
        WAIT,
      );
      assert.match(
        (await page.locator(".sidebar .live-status").textContent()) ?? "",
        /Reconnecting…|Offline/,
      );
    }

    // mail is stored while nothing serves the file (as another process would)
    const kv = await Deno.openKv(kvPath);
    let fresh;
    try {
      fresh = await emailTicket(kv, {
        subject: "Arrived during the restart",
        name: "Lee Latecomer",
        email: "lee@example.test",
        text: "Anyone there?",
      });
      // a distinct millisecond, so "newest activity first" has one right answer
      await new Promise((r) => setTimeout(r, 5));
      const res = await appendMessage(kv, first.id, {
        direction: "inbound",
        author_name: "Kim Customer",
        author_email: "kim@example.test",
        author_user_id: null,
        body_text: "Update: the fire is out.",
        body_html: null,
        via_email: true,
        message_id: `<${crypto.randomUUID()}@mail.example.test>`,
        auto: false,
      }, { reopen: true });
      assert.equal(res.duplicate, false);
    } finally {
      kv.close();
    }
    await screenshot(inbox, "restart_2_down_inbox");
    await screenshot(ticket, "restart_2_down_ticket");
    // still down: nothing new has reached the pages
    assert.equal(await inbox.locator(`.ticket-row[data-ticket-id="${fresh.id}"]`).count(), 0);
    assert.equal(await ticket.locator(".message").count(), 1);

    t = await startTestApp({ kvPath, port });
    assert.equal(t.url, `http://127.0.0.1:${port}`);

    // the Inbox: the new ticket on top, the old one still there, the mark gone
    await inbox.waitForSelector(`.ticket-row[data-ticket-id="${fresh.id}"]`, WAIT);
    await online(inbox, WAIT);
    assert.deepEqual(
      await inbox.locator(".ticket-row").evaluateAll((rows) =>
        rows.map((r) => Number(r.getAttribute("data-ticket-id")))
      ),
      // the reply to the first ticket came after the new ticket: newest activity first
      [first.id, fresh.id],
    );
    assert.equal(await inbox.locator(".sidebar .live-status").textContent(), "");

    // the ticket: the missed reply at the bottom, the draft and its caret untouched
    await ticket.waitForSelector(".message:has-text('Update: the fire is out.')", WAIT);
    await online(ticket, WAIT);
    assert.deepEqual(await ticket.locator(".message .message-body").allTextContents(), [
      "It smells of toner.",
      "Update: the fire is out.",
    ]);
    assert.equal(await ticket.inputValue("#reply-text"), draft);
    assert.equal(
      await ticket.evaluate(() =>
        (document.querySelector("#reply-text") as HTMLTextAreaElement).selectionStart
      ),
      5,
    );

    // the open ticket page re-read the first ticket (read again); the new one is unread
    await badgeIs(inbox, "1/2", WAIT);
    await badgeIs(ticket, "1/2", WAIT);
    const counts = await (await t.client()).json("GET", "/api/v1/inbox/counts");
    assert.equal(counts.status, 200);
    assert.deepEqual([counts.body.unread, counts.body.total], [1, 2]);
    await assertNoReload(inbox, "the Inbox was patched in place, not reloaded");
    await assertNoReload(ticket, "the ticket page was patched in place, not reloaded");
    await screenshot(inbox, "restart_3_after_inbox");
    await screenshot(ticket, "restart_3_after_ticket");
    assert.deepEqual(b.problems, []);
  } finally {
    await b.close();
    await t?.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
