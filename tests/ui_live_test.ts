/**
 * Live updates in a real Chromium, against the real WebSocket hub: new tickets and badge counts
 * arrive without a reload; an open ticket gets a customer's reply at the bottom while the draft
 * stays untouched; another agent's status change and presence show up; after the socket is
 * dropped the page reconnects and shows what happened meanwhile.
 */
import assert from "node:assert/strict";
import { addAgent, ADMIN, agentClient, startTestApp } from "./support/app.ts";
import {
  assertNoReload,
  badgeIs,
  emailTicket,
  hydrated,
  markNoReload,
  online,
  openBrowser,
  signIn,
  signInLive,
} from "./ui_support.ts";
import { screenshot } from "./support/browser.ts";
import { appendMessage } from "../lib/db/messages.ts";
import { LiveHub } from "../lib/live/hub.ts";

Deno.test("[ui live] new tickets appear in an open Inbox and the badge follows, no reload", async () => {
  const t = await startTestApp();
  const b = await openBrowser();
  try {
    const bo = await agentClient(t, { email: "bo@example.test", name: "Bo Agent" });
    const { page } = b;
    await signInLive(page, t.url);
    assert.equal(await page.locator(".sidebar [data-badge=inbox]").textContent(), "0/0");
    await markNoReload(page);
    // focus a control: it must keep focus through the in-place reloads
    await page.focus(".sidebar a[href='/customers']");

    const made = await bo.json("POST", "/api/v1/tickets", {
      subject: "Made through the API",
      body: "Hello from Bo",
    });
    assert.equal(made.status, 201);
    await page.waitForSelector(`.ticket-row[data-ticket-id="${made.body.ticket.id}"]`);
    await badgeIs(page, "1/1");

    const mail = await emailTicket(t.kv, {
      subject: "Arrived by mail",
      name: "Mia Mailer",
      email: "mia@example.test",
      text: "New mail",
    });
    await page.waitForSelector(`.ticket-row[data-ticket-id="${mail.id}"]`);
    await badgeIs(page, "2/2");
    // newest activity first
    assert.deepEqual(
      await page.locator(".ticket-row").evaluateAll((rows) =>
        rows.map((r) => Number(r.getAttribute("data-ticket-id")))
      ),
      [mail.id, made.body.ticket.id],
    );
    await assertNoReload(page);
    assert.equal(
      await page.evaluate(() => document.activeElement?.getAttribute("href")),
      "/customers",
    );
    await screenshot(page, "live_inbox");

    // assigned elsewhere: it leaves this page's list live
    const cust = await bo.json("POST", "/api/v1/customers", { name: "Zed Ltd" });
    await bo.json("POST", `/api/v1/tickets/${mail.id}/customer`, {
      customer_id: cust.body.customer.id,
    });
    await page.waitForSelector(`.ticket-row[data-ticket-id="${mail.id}"]`, { state: "detached" });
    await badgeIs(page, "1/1");
    await assertNoReload(page);
    assert.deepEqual(b.problems, []);
  } finally {
    await b.close();
    await t.close();
  }
});

Deno.test("[ui live] an open ticket gets replies at the bottom, the draft stays, viewers show", async () => {
  const t = await startTestApp();
  const b = await openBrowser();
  const b2 = await openBrowser();
  try {
    const cy = await addAgent(t, { email: "cy@example.test", name: "Cy Colleague" });
    const tk = await emailTicket(t.kv, {
      subject: "Keeps talking",
      name: "Kim Customer",
      email: "kim@example.test",
      text: "First message",
    });
    const { page } = b;
    await signIn(page, t.url, ADMIN.email, ADMIN.password);
    await page.goto(`${t.url}/tickets/${tk.id}`);
    await hydrated(page);
    await online(page);
    await markNoReload(page);
    const draft = "My careful answer,\nstill writing";
    await page.fill("#reply-text", draft);
    // the caret sits somewhere in the middle of the draft
    await page.evaluate(() => {
      const el = document.querySelector("#reply-text") as HTMLTextAreaElement;
      el.setSelectionRange(3, 3);
    });

    const res = await appendMessage(t.kv, tk.id, {
      direction: "inbound",
      author_name: "Kim Customer",
      author_email: "kim@example.test",
      author_user_id: null,
      body_text: "Second message, sent while you type",
      body_html: null,
      via_email: true,
      message_id: "<second@mail.example.test>",
      auto: false,
    }, { reopen: true });
    assert.equal(res.duplicate, false);
    await page.waitForSelector(".message:has-text('Second message, sent while you type')");
    const texts = await page.locator(".message .message-body").allTextContents();
    assert.deepEqual(texts, ["First message", "Second message, sent while you type"]);
    assert.equal(await page.inputValue("#reply-text"), draft);
    assert.equal(
      await page.evaluate(() =>
        (document.querySelector("#reply-text") as HTMLTextAreaElement).selectionStart
      ),
      3,
    );

    // a colleague opens it: their initials show; they change the status: it shows here
    await signIn(b2.page, t.url, cy.email, cy.password);
    await b2.page.goto(`${t.url}/tickets/${tk.id}`);
    await hydrated(b2.page);
    await page.waitForSelector("[data-viewers] .avatar[title='Cy Colleague']");
    assert.equal(await page.locator("[data-viewers] .avatar").textContent(), "CC");
    await b2.page.selectOption("select[name=status]", "pending");
    await page.waitForFunction(() =>
      document.querySelector(".ticket-title-row .pill")?.textContent === "Pending"
    );
    assert.equal(await page.inputValue("select[name=status]"), "pending");
    await screenshot(page, "live_ticket");
    // they leave: the avatar goes
    await b2.page.goto(`${t.url}/customers`);
    await page.waitForSelector("[data-viewers]", { state: "detached" });
    assert.equal(await page.inputValue("#reply-text"), draft);
    await assertNoReload(page);
    assert.deepEqual(b.problems, []);
  } finally {
    await b2.close();
    await b.close();
    await t.close();
  }
});

Deno.test("[ui live] after the socket drops the page reconnects and shows what it missed", async () => {
  const t = await startTestApp();
  const b = await openBrowser();
  try {
    const { page } = b;
    await signInLive(page, t.url);
    await markNoReload(page);
    // the hub goes away (as in a server restart): every socket is closed
    const old = t.app.svc.ext.live as LiveHub;
    t.app.svc.ext.live = new LiveHub(t.kv);
    await old.stop();
    const tk = await emailTicket(t.kv, {
      subject: "While you were away",
      name: "Al Away",
      email: "al@example.test",
      text: "missed?",
    });
    await page.waitForSelector(`.ticket-row[data-ticket-id="${tk.id}"]`);
    await badgeIs(page, "1/1");
    await online(page);
    await assertNoReload(page);
    assert.deepEqual(b.problems, []);
  } finally {
    await b.close();
    await t.close();
  }
});
