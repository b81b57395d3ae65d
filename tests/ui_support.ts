/**
 * Helpers of the Chromium UI tests (tests/ui_*_test.ts): a headless Chromium per test, sign-in,
 * screenshots into tests/out/, page-problem collection, and seeding email tickets straight
 * into KV (as the IMAP pipeline would store them).
 */
import { mkdirSync } from "node:fs";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { createTicket } from "../lib/db/messages.ts";
import type { TicketRecord } from "../lib/db/tickets.ts";

const CHROMIUM = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Where screenshots go. */
export const OUT = new URL("./out/", import.meta.url);

/** A browser context with one page; `problems` collects console errors and failed requests. */
export interface UiBrowser {
  context: BrowserContext;
  page: Page;
  problems: string[];
  /** Another page in the same context (same cookies). */
  newPage(): Promise<Page>;
  close(): Promise<void>;
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

/** Start Chromium (headless) with a fresh profile. */
export async function openBrowser(
  viewport = { width: 1280, height: 860 },
): Promise<UiBrowser> {
  const dir = await Deno.makeTempDir({ prefix: "warmdesk_ui_" });
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: false, // --headless is in ARGS: keep Playwright from adding its own mode flags
    args: ARGS,
    viewport,
  });
  const problems: string[] = [];
  const page = context.pages()[0] ?? await context.newPage();
  watch(page, problems);
  return {
    context,
    page,
    problems,
    async newPage() {
      const p = await context.newPage();
      watch(p, problems);
      return p;
    },
    async close() {
      await context.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
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

/** Full-page screenshot into tests/out/<name>.png. */
export async function shot(page: Page, name: string) {
  mkdirSync(OUT, { recursive: true });
  await page.screenshot({ path: new URL(`${name}.png`, OUT).pathname, fullPage: true });
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
