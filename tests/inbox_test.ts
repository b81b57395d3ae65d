/** Inbox semantics: per-agent unread/total, paging, assignment, status rules, numbering. */
import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { agentClient, startTestApp } from "./support/app.ts";

async function withAgents() {
  const t = await startTestApp({ start: false });
  return {
    t,
    admin: await t.client(),
    ann: await agentClient(t, { email: "ann@example.test", name: "ann" }),
    bob: await agentClient(t, { email: "bob@example.test", name: "bob" }),
  };
}

Deno.test("[inbox] unread is per agent: opening a ticket marks it read for that agent only", async () => {
  const { t, admin, ann, bob } = await withAgents();
  try {
    for (let i = 0; i < 3; i++) {
      await admin.json("POST", "/api/v1/tickets", { subject: `T${i}`, body: "b" });
    }
    deepStrictEqual((await ann.json("GET", "/api/v1/inbox/counts")).body, { unread: 3, total: 3 });
    deepStrictEqual((await admin.json("GET", "/api/v1/inbox/counts")).body, {
      unread: 0,
      total: 3,
    });
    await ann.json("GET", "/api/v1/tickets/2");
    deepStrictEqual((await ann.json("GET", "/api/v1/inbox/counts")).body, { unread: 2, total: 3 });
    deepStrictEqual((await bob.json("GET", "/api/v1/inbox/counts")).body, { unread: 3, total: 3 });
    const list = await ann.json("GET", "/api/v1/inbox");
    deepStrictEqual(
      list.body.tickets.map((x: { id: number; unread: boolean }) => [x.id, x.unread]),
      [
        [3, true],
        [2, false],
        [1, true],
      ],
    );
    // new activity makes it unread again for ann, but not for bob's reply to himself
    await bob.json("POST", "/api/v1/tickets/2/messages", { body: "on it" });
    deepStrictEqual((await ann.json("GET", "/api/v1/inbox/counts")).body, { unread: 3, total: 3 });
    deepStrictEqual((await bob.json("GET", "/api/v1/inbox/counts")).body, { unread: 2, total: 3 });
    // the ticket with the newest activity comes first
    strictEqual((await ann.json("GET", "/api/v1/inbox")).body.tickets[0].id, 2);
  } finally {
    await t.close();
  }
});

Deno.test("[inbox] resolved tickets leave the total, closed and assigned ones leave the list", async () => {
  const { t, admin, ann } = await withAgents();
  try {
    for (let i = 0; i < 4; i++) {
      await admin.json("POST", "/api/v1/tickets", { subject: `T${i}`, body: "b" });
    }
    await ann.json("GET", "/api/v1/tickets/1");
    strictEqual((await ann.json("PATCH", "/api/v1/tickets/1", { status: "resolved" })).status, 200);
    await admin.json("PATCH", "/api/v1/tickets/2", { status: "closed" });
    const cust = (await admin.json("POST", "/api/v1/customers", { name: "ACME" })).body.customer;
    const moved = await admin.json("POST", "/api/v1/tickets/3/customer", { customer_id: cust.id });
    strictEqual(moved.body.ticket.customer_id, cust.id);
    const inbox = await ann.json("GET", "/api/v1/inbox");
    deepStrictEqual(inbox.body.tickets.map((x: { id: number }) => x.id).sort(), [1, 4]);
    deepStrictEqual([inbox.body.unread, inbox.body.total], [1, 1]);
    // reopening a resolved ticket brings it back into the total, already read by ann
    await admin.json("PATCH", "/api/v1/tickets/1", { status: "open" });
    deepStrictEqual((await ann.json("GET", "/api/v1/inbox/counts")).body, { unread: 1, total: 2 });
    // move to another customer
    const other = (await admin.json("POST", "/api/v1/customers", { name: "Globex" })).body.customer;
    await admin.json("POST", "/api/v1/tickets/3/customer", { customer_id: other.id });
    deepStrictEqual(
      (await admin.json("GET", `/api/v1/customers/${cust.id}/tickets`)).body.tickets,
      [],
    );
    strictEqual(
      (await admin.json("GET", `/api/v1/customers/${other.id}/tickets`)).body.tickets[0].id,
      3,
    );
    const customers = (await admin.json("GET", "/api/v1/customers")).body.customers;
    deepStrictEqual(
      customers.map((c: { name: string; ticket_count: number }) => [c.name, c.ticket_count]),
      [
        ["ACME", 0],
        ["Globex", 1],
      ],
    );
  } finally {
    await t.close();
  }
});

Deno.test("[inbox] an agent's reply moves a new ticket to open and leaves other statuses alone", async () => {
  const { t, admin } = await withAgents();
  try {
    await admin.json("POST", "/api/v1/tickets", { subject: "a", body: "b" });
    await admin.json("POST", "/api/v1/tickets/1/messages", { body: "r" });
    strictEqual((await admin.json("GET", "/api/v1/tickets/1")).body.ticket.status, "open");
    await admin.json("PATCH", "/api/v1/tickets/1", { status: "pending" });
    await admin.json("POST", "/api/v1/tickets/1/messages", { body: "r2" });
    const v = (await admin.json("GET", "/api/v1/tickets/1")).body;
    strictEqual(v.ticket.status, "pending");
    strictEqual(v.ticket.message_count, 3);
    deepStrictEqual(v.messages.map((m: { body_text: string }) => m.body_text), ["b", "r", "r2"]);
  } finally {
    await t.close();
  }
});

Deno.test("[inbox] paging with the cursor walks every ticket once, newest first", async () => {
  const { t, admin } = await withAgents();
  try {
    for (let i = 0; i < 7; i++) {
      await admin.json("POST", "/api/v1/tickets", { subject: `T${i}`, body: "b" });
    }
    const seen: number[] = [];
    let cursor = "";
    for (let page = 0; page < 10; page++) {
      const r = await admin.json(
        "GET",
        `/api/v1/inbox?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      );
      seen.push(...r.body.tickets.map((x: { id: number }) => x.id));
      if (!r.body.cursor) break;
      cursor = r.body.cursor;
    }
    deepStrictEqual(seen, [7, 6, 5, 4, 3, 2, 1]);
  } finally {
    await t.close();
  }
});

Deno.test("[inbox] ticket numbers increase by one without gaps under concurrent creation", async () => {
  const { t, admin, ann, bob } = await withAgents();
  try {
    const clients = [admin, ann, bob];
    const results = await Promise.all(
      Array.from(
        { length: 60 },
        (_, i) => clients[i % 3].json("POST", "/api/v1/tickets", { subject: `c${i}`, body: "b" }),
      ),
    );
    strictEqual(results.every((r) => r.status === 201), true);
    const ids = results.map((r) => r.body.ticket.id as number).sort((a, b) => a - b);
    deepStrictEqual(ids, Array.from({ length: 60 }, (_, i) => i + 1));
    strictEqual((await admin.json("GET", "/api/v1/inbox/counts")).body.total, 60);
  } finally {
    await t.close();
  }
});

Deno.test("[inbox] subjects are one line wherever they are stored", async () => {
  const { t, admin } = await withAgents();
  try {
    const r = await admin.json("POST", "/api/v1/tickets", {
      subject: "Hello\r\nBcc: evil@example.test",
      body: "b",
    });
    strictEqual(r.body.ticket.subject, "Hello Bcc: evil@example.test");
    const p = await admin.json("PATCH", "/api/v1/tickets/1", { subject: "A\nB" });
    strictEqual(p.body.ticket.subject, "A B");
  } finally {
    await t.close();
  }
});
