/**
 * The agent's main path in a real Chromium: sign in, the badge, open an email ticket, reply,
 * assign it to a customer and see it leave the Inbox; the reply draft survives a reload; the
 * sign-in form works without JavaScript.
 */
import assert from "node:assert/strict";
import { ADMIN, startTestApp } from "./support/app.ts";
import { badgeIs, emailTicket, hydrated, openBrowser, signIn } from "./ui_support.ts";
import { screenshot } from "./support/browser.ts";

Deno.test("[ui flow] sign in, badge, open a ticket, reply, assign it, it leaves the Inbox", async () => {
  const t = await startTestApp();
  const b = await openBrowser();
  try {
    const admin = await t.client();
    const acme = await admin.json("POST", "/api/v1/customers", {
      name: "Acme Corp",
      email: "ops@acme.example",
    });
    assert.equal(acme.status, 201);
    const first = await emailTicket(t.kv, {
      subject: "Printer on fire",
      name: "Pat Customer",
      email: "pat@acme.example",
      text: "Hello,\n\nthe printer is on fire again.\n\nPat",
      html: "<p>Hello,</p><p>the printer is <b>on fire</b> again.</p><p>Pat</p>",
    });
    await emailTicket(t.kv, {
      subject: "Invoice question",
      name: "Robin Buyer",
      email: "robin@shop.example",
      text: "Where is my invoice?",
    });

    const { page } = b;
    await signIn(page, t.url, ADMIN.email, ADMIN.password);
    assert.equal(new URL(page.url()).pathname, "/inbox");
    await hydrated(page);
    const badge = page.locator(".sidebar [data-badge=inbox]");
    assert.equal(await badge.textContent(), "2/2");
    assert.equal(await page.locator(".ticket-row").count(), 2);
    // newest activity first; sender, ✉ and status shown
    const row = page.locator(`.ticket-row[data-ticket-id="${first.id}"]`);
    assert.match(
      await row.textContent() ?? "",
      /Pat Customer.*pat@acme\.example.*✉.*Printer on fire.*New/s,
    );
    assert.equal(await row.evaluate((e) => e.classList.contains("is-unread")), true);
    await screenshot(page, "inbox");

    await row.locator("a").click();
    await page.waitForURL(`**/tickets/${first.id}`);
    await hydrated(page);
    assert.match(await page.locator("h1").textContent() ?? "", /Printer on fire/);
    const meta = await page.locator("[data-meta]").textContent() ?? "";
    assert.match(meta, /✉/);
    assert.match(meta, /Pat Customer/);
    assert.match(meta, /pat@acme\.example/);
    // the sanitized HTML body is rendered as HTML
    assert.equal(await page.locator(".message-html b").textContent(), "on fire");
    // opening it marked it read: the badge follows (live, or server-rendered)
    await badgeIs(page, "1/2");
    await screenshot(page, "ticket");

    await page.fill("#reply-text", "We are sending a technician.");
    await page.click("button:has-text('Send reply')");
    await page.waitForSelector(".message-outbound:has-text('We are sending a technician.')");
    assert.equal(await page.inputValue("#reply-text"), "");
    // an agent's reply moves a new ticket to open
    await page.waitForFunction(() =>
      document.querySelector(".ticket-title-row .pill")?.textContent === "Open"
    );
    assert.equal(await page.locator(".message").count(), 2);

    await page.selectOption("[data-panel=customer] select", {
      label: "Acme Corp (ops@acme.example)",
    });
    await page.click("[data-panel=customer] button:has-text('Assign')");
    await page.waitForSelector("text=Assigned to Acme Corp");
    assert.equal(await page.locator("[data-panel=customer] h2").textContent(), "Move to customer");
    await screenshot(page, "ticket_assigned");

    const stored = await admin.json("GET", `/api/v1/tickets/${first.id}`);
    assert.equal(stored.body.ticket.customer_id, acme.body.customer.id);
    assert.equal(stored.body.messages.length, 2);

    await page.click(".sidebar a[href='/inbox']");
    await page.waitForURL("**/inbox");
    await hydrated(page);
    assert.equal(await page.locator(`.ticket-row[data-ticket-id="${first.id}"]`).count(), 0);
    assert.equal(await page.locator(".ticket-row").count(), 1);
    assert.equal(await badge.textContent(), "1/1");

    // the customer's page lists it
    await page.goto(`${t.url}/customers/${acme.body.customer.id}`);
    assert.match(await page.locator(".ticket-list").textContent() ?? "", /Printer on fire/);
    await screenshot(page, "customer");

    // the Customers list, and creating one there
    await page.click(".sidebar a[href='/customers']");
    await hydrated(page);
    await page.fill("form input[name=name]", "Beta Bakery");
    await page.fill("form input[name=email]", "hello@beta.example");
    await page.click("button:has-text('Add customer')");
    await page.waitForSelector(".card-list li.is-new:has-text('Beta Bakery')");
    assert.match(
      await page.locator(".card-list li:has-text('Acme Corp')").textContent() ?? "",
      /1 ticket/,
    );
    // the same address again: the server's 409 is shown
    await page.fill("form input[name=name]", "Beta again");
    await page.fill("form input[name=email]", "hello@beta.example");
    await page.click("button:has-text('Add customer')");
    await page.waitForSelector("form [role=alert]");
    assert.match(await page.locator("form [role=alert]").textContent() ?? "", /already exists/);
    await screenshot(page, "customers");

    // an unknown ticket: a 404 page inside the frame
    const missing = await page.goto(`${t.url}/tickets/999`);
    assert.equal(missing?.status(), 404);
    assert.match(await page.locator("main h1").textContent() ?? "", /Not found/);
    await screenshot(page, "not_found");
    assert.deepEqual(b.problems, []);
  } finally {
    await b.close();
    await t.close();
  }
});

Deno.test("[ui flow] a reply draft survives a reload and is cleared after sending", async () => {
  const t = await startTestApp();
  const b = await openBrowser();
  try {
    const tk = await emailTicket(t.kv, {
      subject: "Draft keeping",
      name: "Dee Raft",
      email: "dee@example.test",
      text: "Please answer slowly.",
    });
    const { page } = b;
    await signIn(page, t.url, ADMIN.email, ADMIN.password);
    await page.goto(`${t.url}/tickets/${tk.id}`);
    await hydrated(page);
    await page.fill("#reply-text", "Half-written answer,\nsecond line");
    await page.reload();
    await hydrated(page);
    await page.waitForFunction(() =>
      (document.querySelector("#reply-text") as HTMLTextAreaElement).value.length > 0
    );
    assert.equal(await page.inputValue("#reply-text"), "Half-written answer,\nsecond line");
    // drafts are per ticket
    const other = await emailTicket(t.kv, {
      subject: "Other",
      name: "O",
      email: "o@example.test",
      text: "x",
    });
    await page.goto(`${t.url}/tickets/${other.id}`);
    await hydrated(page);
    assert.equal(await page.inputValue("#reply-text"), "");
    await page.goto(`${t.url}/tickets/${tk.id}`);
    await hydrated(page);
    await page.waitForFunction(() =>
      (document.querySelector("#reply-text") as HTMLTextAreaElement).value !== ""
    );
    await page.click("button:has-text('Send reply')");
    await page.waitForSelector(".message-outbound:has-text('second line')");
    await page.reload();
    await hydrated(page);
    assert.equal(await page.inputValue("#reply-text"), "");
    assert.deepEqual(b.problems, []);
  } finally {
    await b.close();
    await t.close();
  }
});

Deno.test("[ui flow] sign-in works without JavaScript, keeps ?next=, shows errors", async () => {
  const t = await startTestApp();
  const b = await openBrowser();
  try {
    await b.context.route("**/_fw/js/**", (r) => r.abort());
    const { page } = b;
    await page.goto(`${t.url}/customers`);
    assert.equal(new URL(page.url()).pathname, "/login");
    await page.fill("input[name=email]", ADMIN.email);
    await page.fill("input[name=password]", "wrong-password");
    await page.click("button[type=submit]");
    await page.waitForSelector("[role=alert]");
    assert.match(await page.locator("[role=alert]").textContent() ?? "", /Wrong email or password/);
    assert.equal(await page.inputValue("input[name=email]"), ADMIN.email);
    await screenshot(page, "login_error");
    await page.fill("input[name=password]", ADMIN.password);
    await Promise.all([page.waitForURL("**/customers"), page.click("button[type=submit]")]);
    assert.equal(new URL(page.url()).pathname, "/customers");
    // an outside ?next= is ignored
    await page.click("button:has-text('Sign out')");
    await page.waitForURL("**/login");
    await page.goto(`${t.url}/login?next=//evil.example/x`);
    await page.fill("input[name=email]", ADMIN.email);
    await page.fill("input[name=password]", ADMIN.password);
    await Promise.all([page.waitForURL("**/inbox"), page.click("button[type=submit]")]);
    assert.equal(new URL(page.url()).host, new URL(t.url).host);
  } finally {
    await b.close();
    await t.close();
  }
});
