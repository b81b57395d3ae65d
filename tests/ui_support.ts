/**
 * Helpers of the Chromium UI tests (tests/ui_*_test.ts), on tests/support/browser.ts (launch,
 * screenshots): a browser whose pages' problems are collected, sign-in, hydration, and seeding
 * email tickets straight into KV (as the IMAP pipeline would store them).
 */
import assert from "node:assert/strict";
import type { Locator, Page } from "playwright-core";
import { ADMIN } from "./support/app.ts";
import { createTicket } from "../lib/db/messages.ts";
import type { TicketRecord } from "../lib/db/tickets.ts";
import { launchBrowser, type TestBrowser } from "./support/browser.ts";

/** A browser with its first page; `problems` collects console errors and failed requests. */
export interface UiBrowser extends TestBrowser {
  page: Page;
  problems: string[];
}

function watch(page: Page, problems: string[]) {
  page.on("console", (m) => {
    const text = m.text();
    // expected: API answers the tests provoke (422s) and refused sockets while a server is down
    if (/status of (4\d\d)|WebSocket connection/.test(text)) return;
    if (m.type() === "error") problems.push(`console: ${text}`);
  });
  page.on("pageerror", (e) => problems.push(`pageerror: ${e}`));
}

/** Start Chromium (headless) with a fresh profile; every page it opens is watched. */
export async function openBrowser(
  viewport = { width: 1280, height: 860 },
): Promise<UiBrowser> {
  const browser = await launchBrowser({ viewport });
  const problems: string[] = [];
  const newPage = async () => {
    const p = await browser.newPage();
    watch(p, problems);
    return p;
  };
  return { ...browser, page: await newPage(), problems, newPage };
}

/** Sign in through the login form and wait for the landing page. */
export async function signIn(page: Page, base: string, email: string, password: string) {
  await page.goto(`${base}/login`);
  await page.fill("input[name=email]", email);
  await page.fill("input[name=password]", password);
  await Promise.all([
    page.waitForURL((u) => !u.pathname.startsWith("/login")),
    page.click("button[type=submit]"),
  ]);
}

/** Wait until every island on the page has hydrated. */
export async function hydrated(page: Page) {
  await page.waitForFunction(() =>
    [...document.querySelectorAll("x-island")].every((e) => e.hasAttribute("data-hydrated"))
  );
}

/** Wait until the page's live socket is online (the sidebar's mark). */
export async function online(page: Page, opts: { timeout?: number } = {}) {
  await page.waitForSelector(".sidebar [data-live=online]", { state: "attached", ...opts });
}

/** Sign in as the admin and wait until the Inbox it lands on has hydrated and is live. */
export async function signInLive(page: Page, base: string, opts: { timeout?: number } = {}) {
  await signIn(page, base, ADMIN.email, ADMIN.password);
  await hydrated(page);
  await online(page, opts);
}

/** Wait until the sidebar's Inbox badge reads `text` ("unread/total"). */
export async function badgeIs(page: Page, text: string, opts: { timeout?: number } = {}) {
  await page.waitForFunction(
    (t) => document.querySelector(".sidebar [data-badge=inbox]")?.textContent === t,
    text,
    opts,
  );
}

/** Mark the document: the mark survives patches in place, not a reload (see assertNoReload). */
export async function markNoReload(page: Page) {
  await page.evaluate(() => (globalThis as unknown as { __kept: number }).__kept = 42);
}

/** Fails when the page was reloaded since {@link markNoReload}. */
export async function assertNoReload(page: Page, message = "the page was not reloaded") {
  assert.equal(
    await page.evaluate(() => (globalThis as unknown as { __kept?: number }).__kept),
    42,
    message,
  );
}

/** Sign in as the admin, open Settings and switch Incoming Mail to OAuth2 with Google. */
export async function chooseOAuth(page: Page, base: string): Promise<Locator> {
  await signIn(page, base, ADMIN.email, ADMIN.password);
  await page.goto(`${base}/admin/settings`);
  await hydrated(page);
  const form = page.locator("form[aria-label='Incoming Mail']");
  await form.locator("select[name=auth]").selectOption("oauth2");
  await form.locator("select[name=provider]").selectOption("google");
  return form;
}

/** Click Authorise in `form` and wait until the popup it opens has closed itself. */
export async function authoriseInPopup(form: Locator) {
  const [popup] = await Promise.all([
    form.page().waitForEvent("popup"),
    form.locator("button:has-text('Authorise')").click(),
  ]);
  await popup.waitForEvent("close", { timeout: 15_000 });
}

/** An email ticket as the incoming-mail pipeline stores it. */
export async function emailTicket(
  kv: Deno.Kv,
  o: { subject: string; name: string; email: string; text: string; html?: string | null },
): Promise<TicketRecord> {
  const res = await createTicket(kv, {
    subject: o.subject,
    source: "email",
    from_name: o.name,
    from_email: o.email,
    customer_id: null,
    first: {
      direction: "inbound",
      author_name: o.name,
      author_email: o.email,
      author_user_id: null,
      body_text: o.text,
      body_html: o.html ?? null,
      via_email: true,
      message_id: `<${crypto.randomUUID()}@mail.example.test>`,
      auto: false,
    },
  });
  if (res.duplicate) throw new Error("unexpected duplicate");
  return res.ticket;
}
