/**
 * Every page in a real Chromium, as an admin and as an agent, at desktop (1280 px) and phone
 * (390 px) width, with realistic data: 30 Inbox tickets (long subjects, long names and addresses,
 * unbroken strings), an HTML mail with an inline image and an attachment, a failed outbound
 * delivery, customers with and without tickets, users, plus the sign-in page and a 404, signed
 * out and in. Screenshots go to tests/out/audit_*.png (look at them after UI changes). Asserted:
 * nothing is wider than the window, no element's content spills out of its box, the page loaded
 * without console errors or failed requests, and the page-specific contents are there.
 */
import assert from "node:assert/strict";
import { deflateSync } from "node:zlib";
import type { Page } from "playwright-core";
import { ADMIN, type Client, startTestApp, type TestApp } from "./support/app.ts";
import { emailTicket, hydrated, openBrowser, signIn } from "./ui_support.ts";
import { screenshot } from "./support/browser.ts";
import { appendMessage, updateDelivery } from "../lib/db/messages.ts";
import { keys } from "../lib/db/keys.ts";
import { ulid } from "ulid";

export const AGENT = { email: "ana@example.test", password: "ana-pass-1234" };
const LONG_NAME = "Maximiliane Alexandra Wolkenstein-Trostburg-Hohenberg";
const LONG_EMAIL =
  "maximiliane.alexandra.wolkenstein-trostburg@subsidiary.enterprise-holdings.example";
const LONG_SUBJECT =
  "Re: Fwd: AW: Invoice 2024-000187 for the annual maintenance contract does not match the quote we agreed on in March (please check the line items)";
const UNBROKEN = "https://portal.example.test/download?file=" + "a1b2c3d4".repeat(14);

/** A solid-colour PNG (truecolour, no alpha), so the inline image is a real image. */
function png(w: number, h: number, rgb: [number, number, number]): Uint8Array {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Uint8Array) => {
    let c = 0xffffffff;
    for (const x of b) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Uint8Array) => {
    const out = new Uint8Array(12 + data.length);
    const v = new DataView(out.buffer);
    v.setUint32(0, data.length);
    out.set(new TextEncoder().encode(type), 4);
    out.set(data, 8);
    v.setUint32(8 + data.length, crc(out.subarray(4, 8 + data.length)));
    return out;
  };
  const ihdr = new Uint8Array(13);
  const hv = new DataView(ihdr.buffer);
  hv.setUint32(0, w);
  hv.setUint32(4, h);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const raw = new Uint8Array(h * (1 + w * 3));
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) raw.set(rgb, y * (1 + w * 3) + 1 + x * 3);
  }
  const parts = [
    new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk("IHDR", ihdr),
    chunk("IDAT", new Uint8Array(deflateSync(raw))),
    chunk("IEND", new Uint8Array()),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) out.set(p, (o += p.length) - p.length);
  return out;
}

/** What {@link seed} made. */
export interface Seeded {
  richTicket: number;
  /** Long subject, long sender name and address, an unbroken URL in the text. */
  longTicket: number;
  /** Made in WarmDesk (no sender address), for the customer. */
  webTicket: number;
  customerId: string;
  emptyCustomerId: string;
}

/** Fills an app with the audit's data (exported to look at the pages by hand). */
export async function seed(t: TestApp, admin: Client): Promise<Seeded> {
  // deno-lint-ignore no-explicit-any
  const ok = (r: { status: number; body: any }, what: string) => {
    assert.ok(r.status < 300, `${what}: ${r.status} ${JSON.stringify(r.body)}`);
    return r;
  };
  ok(
    await admin.json("POST", "/api/v1/admin/users", {
      email: AGENT.email,
      name: "Ana Agent",
      password: AGENT.password,
      role: "agent",
      helpdesk_enabled: true,
    }),
    "agent",
  );
  ok(
    await admin.json("POST", "/api/v1/admin/users", {
      email: LONG_EMAIL,
      name: LONG_NAME,
      password: "long-pass-1234",
      role: "agent",
      helpdesk_enabled: false,
    }),
    "long agent",
  );
  const customer = ok(
    await admin.json("POST", "/api/v1/customers", { name: LONG_NAME, email: LONG_EMAIL }),
    "customer",
  ).body.customer;
  const empty = ok(
    await admin.json("POST", "/api/v1/customers", { name: "Quiet GmbH" }),
    "customer",
  ).body.customer;
  for (const name of ["Acme Ltd", "Bistro Berta", "Café Ünïcödé", "Delta & Sons"]) {
    ok(await admin.json("POST", "/api/v1/customers", { name }), name);
  }

  // 30 Inbox tickets: a mix of ordinary, long and unbroken texts
  let longTicket = 0;
  for (let i = 1; i <= 30; i++) {
    const long = i % 7 === 0;
    const tk = await emailTicket(t.kv, {
      subject: i === 29 ? UNBROKEN : long ? `${LONG_SUBJECT} #${i}` : `Question number ${i}`,
      name: long ? LONG_NAME : i % 5 === 0 ? "" : `Sender ${i}`,
      email: long ? LONG_EMAIL : `sender${i}@example.test`,
      text: long ? `${LONG_SUBJECT}\n\n${UNBROKEN}` : `Hello, question ${i}.`,
    });
    if (long) longTicket = tk.id;
  }
  // two of them read, two belong to the customer (they leave the Inbox)
  const inbox = ok(await admin.json("GET", "/api/v1/inbox"), "inbox").body.tickets as {
    id: number;
  }[];
  ok(await admin.json("GET", `/api/v1/tickets/${inbox[3].id}`), "read");
  ok(await admin.json("GET", `/api/v1/tickets/${inbox[4].id}`), "read");
  for (const tk of inbox.slice(10, 12)) {
    ok(
      await admin.json("POST", `/api/v1/tickets/${tk.id}/customer`, { customer_id: customer.id }),
      "assign",
    );
  }

  // the rich one: HTML with an inline image, an attachment, and an answer that bounced
  const rich = await emailTicket(t.kv, {
    subject: "Screenshot of the error in the booking form",
    name: "Rita Rich",
    email: "rita@example.test",
    text: "See the screenshot.",
  });
  // preset, as the pipeline does to rewrite cid: links before storing
  const imgId = ulid();
  await appendMessage(t.kv, rich.id, {
    direction: "inbound",
    author_name: "Rita Rich",
    author_email: "rita@example.test",
    author_user_id: null,
    body_text: "Here it is again, with the logs attached.",
    body_html:
      `<p>Here it is again:</p><p><img src="/api/v1/attachments/${imgId}" alt="screenshot" width="640" height="200"></p>` +
      `<table><tr><td>Booking</td><td><a href="${UNBROKEN}">${UNBROKEN}</a></td></tr>` +
      `<tr><td>Reference</td><td>BK-${"7".repeat(60)}</td></tr></table>` +
      `<blockquote>On Monday you wrote:<br>Could you send a screenshot?</blockquote>`,
    via_email: true,
    message_id: `<${crypto.randomUUID()}@mail.example.test>`,
    auto: false,
    attachments: [
      {
        id: imgId,
        filename: "screenshot.png",
        content_type: "image/png",
        content: png(640, 200, [214, 92, 40]),
        content_id: "shot@rita",
        inline: true,
      },
      {
        filename: "booking-form-error-log-2024-05-14T09-31-22.txt",
        content_type: "text/plain",
        content: new TextEncoder().encode("ERROR booking failed\n"),
        content_id: null,
        inline: false,
      },
    ],
  }, {});
  const sent = ok(
    await admin.json("POST", `/api/v1/tickets/${rich.id}/messages`, {
      body: "Thanks Rita, we are looking into it.",
    }),
    "reply",
  );
  const mid = sent.body.message.id as string;
  const ob = await t.kv.get<Record<string, unknown>>(keys.outbox(mid));
  const error =
    "550 5.1.1 <rita@example.test>: Recipient address rejected: User unknown in virtual mailbox table";
  await t.kv.set(keys.outbox(mid), { ...ob.value, state: "failed", last_error: error });
  await updateDelivery(t.kv, rich.id, mid, () => ({ status: "failed", attempts: 9, error }));
  const web = ok(
    await admin.json("POST", "/api/v1/tickets", {
      subject: "Phoned in: the printer on the second floor jams",
      body: "Called at 9:40. Wants someone to come by before noon.",
      customer_id: customer.id,
    }),
    "web ticket",
  ).body.ticket;
  return {
    richTicket: rich.id,
    longTicket,
    webTicket: web.id,
    customerId: customer.id,
    emptyCustomerId: empty.id,
  };
}

/** Where content is wider than the window, spills out of its box or hides in a scroll box. */
function overflows(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    // clientWidth: the window without its scrollbar
    const root = document.documentElement;
    if (root.scrollWidth > root.clientWidth + 1) {
      out.push(`document ${root.scrollWidth}px > ${root.clientWidth}px`);
    }
    for (const el of document.body.querySelectorAll<HTMLElement>("*")) {
      if (el.clientWidth === 0 || el.closest("select, svg, .sr-only, .visually-hidden")) continue;
      // inside a visually hidden box (1 px, clipped), e.g. a table head kept for screen readers
      let hidden = false;
      for (let a: HTMLElement | null = el; a && !hidden; a = a.parentElement) {
        hidden = a.clientWidth === 1 && getComputedStyle(a).overflow === "hidden";
      }
      if (hidden) continue;
      const st = getComputedStyle(el);
      if (st.display === "inline") continue;
      // a scroll box hides what is past its edge: fine for mail HTML (wide newsletters) and
      // the phone's section row, not for app content (e.g. a table's last columns)
      if (st.overflowX !== "visible" && el.matches(".message-html, .nav-list, textarea, pre")) {
        continue;
      }
      if (st.overflowX === "hidden" && st.textOverflow === "ellipsis") continue;
      if (el.scrollWidth > el.clientWidth + 1) {
        const cls = typeof el.className === "string" && el.className
          ? "." + el.className.trim().split(/\s+/).join(".")
          : "";
        out.push(`${el.tagName.toLowerCase()}${cls} ${el.scrollWidth}>${el.clientWidth}`);
      }
    }
    return out;
  });
}

interface Visit {
  name: string;
  path: string;
  /** A selector that must be there once the page is ready. */
  ready: string;
  status?: number;
}

function visits(s: Seeded, role: "admin" | "agent"): Visit[] {
  const list: Visit[] = [
    { name: "inbox", path: "/inbox", ready: ".ticket-row" },
    { name: "ticket", path: `/tickets/${s.richTicket}`, ready: "[data-delivery]" },
    { name: "ticket_long", path: `/tickets/${s.longTicket}`, ready: ".message" },
    { name: "ticket_web", path: `/tickets/${s.webTicket}`, ready: ".message" },
    { name: "customers", path: "/customers", ready: "main" },
    { name: "customer", path: `/customers/${s.customerId}`, ready: "main" },
    { name: "customer_empty", path: `/customers/${s.emptyCustomerId}`, ready: "main" },
    { name: "404", path: "/no/such/page", ready: "main", status: 404 },
    { name: "logout", path: "/logout", ready: "main" },
  ];
  if (role === "admin") {
    list.push(
      {
        name: "settings",
        path: "/admin/settings",
        ready: "form[aria-label='Outgoing Mail'] input[name=host]",
      },
      { name: "users", path: "/admin/users", ready: "main" },
    );
  } else {
    list.push({ name: "settings_403", path: "/admin/settings", ready: "main", status: 403 });
  }
  return list;
}

const WIDTHS = [{ width: 1280, height: 860 }, { width: 390, height: 844 }];

Deno.test("[ui audit] every page as admin and agent, desktop and phone: nothing spills, nothing fails", async () => {
  const t = await startTestApp({ start: false });
  const problems: string[] = [];
  try {
    const admin = await t.client();
    const s = await seed(t, admin);
    // the server's HTML already shows the right choice in selects (hydration leaves it alone)
    const users = await (await admin.fetch("/admin/users")).text();
    assert.match(users, /<option value="admin" selected>Admin<\/option>/);
    const tk = await (await admin.fetch(`/tickets/${s.richTicket}`)).text();
    assert.match(tk, /<option\s+value="open" selected>Open<\/option>/);
    for (const vp of WIDTHS) {
      const b = await openBrowser(vp);
      try {
        const { page } = b;
        // signed out: the sign-in page, also with an error; any other page leads there
        await b.context.clearCookies();
        const res = await page.goto(t.url + "/nope");
        assert.equal(res?.status(), 200);
        assert.equal(new URL(page.url()).pathname, "/login");
        await screenshot(page, `audit_anon_${vp.width}_login`);
        for (const o of await overflows(page)) problems.push(`anon ${vp.width} login: ${o}`);
        await page.fill("input[name=email]", ADMIN.email);
        await page.fill("input[name=password]", "wrong-password");
        await Promise.all([page.waitForLoadState("load"), page.click("button[type=submit]")]);
        await page.waitForSelector("[role=alert]");
        await screenshot(page, `audit_anon_${vp.width}_login_error`);
        for (const o of await overflows(page)) problems.push(`anon ${vp.width} login error: ${o}`);
        for (const role of ["admin", "agent"] as const) {
          const who = role === "admin" ? ADMIN : AGENT;
          await b.context.clearCookies();
          await signIn(page, t.url, who.email, who.password);
          for (const v of visits(s, role)) {
            const res = await page.goto(t.url + v.path);
            assert.equal(res?.status(), v.status ?? 200, `${role} ${v.path}`);
            await hydrated(page);
            await page.waitForSelector(v.ready);
            // images (the inline one) loaded, and not as broken-image icons
            await page.waitForFunction(() => [...document.images].every((i) => i.complete));
            const broken = await page.evaluate(() =>
              [...document.images].filter((i) => i.naturalWidth === 0).map((i) => i.src)
            );
            for (const src of broken) problems.push(`${role} ${vp.width} ${v.name}: image ${src}`);
            await screenshot(page, `audit_${role}_${vp.width}_${v.name}`);
            for (const o of await overflows(page)) {
              problems.push(`${role} ${vp.width} ${v.name}: ${o}`);
            }
          }
        }
        problems.push(...b.problems.map((p) => `${vp.width}: ${p}`));
      } finally {
        await b.close();
      }
    }
    assert.deepEqual(problems, []);
  } finally {
    await t.close();
  }
});

Deno.test("[ui audit] a fresh install: empty Inbox and Customers say so, desktop and phone", async () => {
  const t = await startTestApp({ start: false });
  try {
    for (const vp of WIDTHS) {
      const b = await openBrowser(vp);
      try {
        const { page } = b;
        await signIn(page, t.url, ADMIN.email, ADMIN.password);
        await hydrated(page);
        assert.match(await page.locator("main").textContent() ?? "", /Inbox is empty|No tickets/i);
        await screenshot(page, `audit_empty_${vp.width}_inbox`);
        assert.deepEqual(await overflows(page), []);
        await page.goto(`${t.url}/customers`);
        await hydrated(page);
        assert.match(await page.locator("main").textContent() ?? "", /No customers/i);
        await screenshot(page, `audit_empty_${vp.width}_customers`);
        assert.deepEqual(await overflows(page), []);
        await page.goto(`${t.url}/admin/settings`);
        await hydrated(page);
        await page.locator("form[aria-label='Outgoing Mail'] input[name=host]").waitFor();
        await screenshot(page, `audit_empty_${vp.width}_settings`);
        assert.deepEqual(await overflows(page), []);
        assert.deepEqual(b.problems, []);
      } finally {
        await b.close();
      }
    }
  } finally {
    await t.close();
  }
});
