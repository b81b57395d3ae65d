/**
 * `GET /api/v1/ws` end to end: one test per event type, against a full app on a :memory: KV.
 * Writes go through the API or the same db functions the mail importer uses.
 */
import assert from "node:assert/strict";
import { startTestApp } from "./support/app.ts";
import { agent, mailTicket, WsClient } from "../lib/live/testing.ts";
import { appendMessage, updateDelivery } from "../lib/db/messages.ts";
import { liveHub } from "../lib/live/upgrade.ts";

Deno.test("[ws] a socket gets the caller's inbox counts on connect", async () => {
  const t = await startTestApp();
  await mailTicket(t.kv, "one");
  await mailTicket(t.kv, "two");
  const admin = await t.client();
  // reading one ticket makes it read for the admin only
  assert.equal((await admin.json("GET", "/api/v1/tickets/1")).status, 200);
  const ws = await WsClient.connect(t.url, admin.cookie);
  const ev = await ws.nextOf("inbox");
  assert.deepEqual(ev, { type: "inbox", unread: 1, total: 2 });
  await ws.close();
  await t.close();
});

Deno.test("[ws] a new ticket sends a created ticket event and new inbox counts", async () => {
  const t = await startTestApp();
  const admin = await t.client();
  const ws = await WsClient.connect(t.url, admin.cookie);
  assert.deepEqual(await ws.nextOf("inbox"), { type: "inbox", unread: 0, total: 0 });
  const id = await mailTicket(t.kv);
  assert.deepEqual(await ws.nextOf("ticket"), { type: "ticket", ticket_id: id, reason: "created" });
  assert.deepEqual(await ws.nextOf("inbox"), { type: "inbox", unread: 1, total: 1 });
  // opening it changes the caller's own counts (API.md)
  await admin.json("GET", `/api/v1/tickets/${id}`);
  assert.deepEqual(await ws.nextOf("inbox"), { type: "inbox", unread: 0, total: 1 });
  await ws.close();
  await t.close();
});

Deno.test("[ws] a reply reaches subscribers of the ticket only, as a message event", async () => {
  const t = await startTestApp();
  const id = await mailTicket(t.kv);
  const other = await mailTicket(t.kv, "another");
  const admin = await t.client();
  const sub = await WsClient.connect(t.url, admin.cookie);
  const bystander = await WsClient.connect(t.url, admin.cookie);
  await sub.subscribe(id);
  const r = await admin.json("POST", `/api/v1/tickets/${id}/messages`, { body: "On my way." });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const ev = await sub.nextOf("message", id);
  // the outbound worker may already have changed the delivery state: compare the rest
  assert.deepEqual({ ...ev.message, delivery: null }, { ...r.body.message, delivery: null });
  assert.deepEqual(await sub.nextOf("ticket"), {
    type: "ticket",
    ticket_id: id,
    reason: "message",
  });
  assert.deepEqual(await bystander.nextOf("ticket"), {
    type: "ticket",
    ticket_id: id,
    reason: "message",
  });
  // events to one ticket's subscribers go out in one pass: once the bystander's answer to a
  // later request has arrived, a message event meant for it would have arrived before
  await bystander.subscribe(other);
  assert.equal(bystander.all("message").length, 0);
  // the reply, and again for each delivery change of an email ticket's reply
  assert.ok(sub.all("message").every((e) => e.message.id === r.body.message.id));
  await sub.close();
  await bystander.close();
  await t.close();
});

Deno.test("[ws] a status change sends ticket updated to all and ticket_update to subscribers", async () => {
  const t = await startTestApp();
  const id = await mailTicket(t.kv);
  const admin = await t.client();
  const ws = await WsClient.connect(t.url, admin.cookie);
  await ws.subscribe(id);
  const r = await admin.json("PATCH", `/api/v1/tickets/${id}`, { status: "pending" });
  assert.equal(r.status, 200);
  const up = await ws.nextOf("ticket_update", id);
  assert.equal(up.ticket.status, "pending");
  assert.deepEqual(up.ticket, r.body.ticket);
  assert.deepEqual(await ws.nextOf("ticket"), { type: "ticket", ticket_id: id, reason: "updated" });
  // resolving takes it out of the badge total; closing takes it out of the Inbox
  await admin.json("PATCH", `/api/v1/tickets/${id}`, { status: "closed" });
  assert.equal((await ws.nextOf("ticket_update", id)).ticket.status, "closed");
  assert.deepEqual(await ws.nextOf("ticket"), { type: "ticket", ticket_id: id, reason: "updated" });
  // pending still counts; closed leaves the badge
  assert.deepEqual(await ws.next((e) => e.type === "inbox" && e.total === 0), {
    type: "inbox",
    unread: 0,
    total: 0,
  });
  await ws.close();
  await t.close();
});

Deno.test("[ws] assigning a customer is a ticket_update and a ticket leaving the Inbox", async () => {
  const t = await startTestApp();
  const id = await mailTicket(t.kv);
  const admin = await t.client();
  const c = await admin.json("POST", "/api/v1/customers", { name: "Carol Inc" });
  assert.equal(c.status, 201);
  const ws = await WsClient.connect(t.url, admin.cookie);
  assert.deepEqual(await ws.nextOf("inbox"), { type: "inbox", unread: 1, total: 1 });
  await ws.subscribe(id);
  const r = await admin.json("POST", `/api/v1/tickets/${id}/customer`, {
    customer_id: c.body.customer.id,
  });
  assert.equal(r.status, 200);
  assert.equal((await ws.nextOf("ticket_update", id)).ticket.customer_id, c.body.customer.id);
  assert.deepEqual(await ws.nextOf("ticket"), { type: "ticket", ticket_id: id, reason: "updated" });
  assert.deepEqual(await ws.nextOf("inbox"), { type: "inbox", unread: 0, total: 0 });
  await ws.close();
  await t.close();
});

Deno.test("[ws] a delivery state change sends the message again", async () => {
  const t = await startTestApp();
  const id = await mailTicket(t.kv);
  const admin = await t.client();
  const ws = await WsClient.connect(t.url, admin.cookie);
  await ws.subscribe(id);
  const res = await appendMessage(t.kv, id, {
    direction: "outbound",
    author_name: "Admin",
    author_email: "admin@example.test",
    author_user_id: null,
    body_text: "We are on it.",
    body_html: null,
    via_email: true,
    message_id: "<out-1@desk.test>",
    auto: false,
    delivery: { status: "queued", attempts: 0, error: null },
  });
  assert.equal(res.duplicate, false);
  const first = await ws.nextOf("message", id);
  assert.deepEqual(first.message.delivery, { status: "queued", attempts: 0, error: null });
  const mid = first.message.id as string;
  await updateDelivery(t.kv, id, mid, () => ({ status: "sent", attempts: 1, error: null }));
  const again = await ws.nextOf("message", id);
  assert.equal(again.message.id, mid);
  assert.deepEqual(again.message.delivery, { status: "sent", attempts: 1, error: null });
  await ws.close();
  await t.close();
});

Deno.test("[ws] two agents on one ticket see each other come and go", async () => {
  const t = await startTestApp();
  const id = await mailTicket(t.kv);
  const admin = await t.client();
  const { client: bob, user: bobUser } = await agent(t, "Bob");
  const a = await WsClient.connect(t.url, admin.cookie);
  const b = await WsClient.connect(t.url, bob.cookie);
  // alone: nobody else
  assert.deepEqual(await a.subscribe(id), { type: "presence", ticket_id: id, viewers: [] });
  const bAnswer = await b.subscribe(id);
  assert.equal(bAnswer.viewers.length, 1);
  assert.equal(bAnswer.viewers[0].name, "Admin");
  assert.deepEqual(await a.nextOf("presence", id), {
    type: "presence",
    ticket_id: id,
    viewers: [{ id: bobUser.id, name: "Bob" }],
  });
  // a second tab of the same user is not "someone else"
  const a2 = await WsClient.connect(t.url, admin.cookie);
  assert.deepEqual((await a2.subscribe(id)).viewers, [{ id: bobUser.id, name: "Bob" }]);
  await b.close();
  assert.deepEqual(await a.nextOf("presence", id), {
    type: "presence",
    ticket_id: id,
    viewers: [],
  });
  await a.close();
  await a2.close();
  await t.close();
});

Deno.test("[ws] a viewer whose process died vanishes when its presence row expires", async () => {
  const t = await startTestApp();
  const hub = liveHub(t.app.svc)!;
  hub.options.presenceRefreshMs = 100;
  const id = await mailTicket(t.kv);
  const admin = await t.client();
  const a = await WsClient.connect(t.url, admin.cookie);
  await a.subscribe(id);
  // another process's row: nobody refreshes it
  await t.kv.atomic()
    .set(["presence", id, "ghost-user", "ghost-conn"], {
      user_id: "ghost-user",
      name: "Ghost",
      expires_at: Date.now() + 300,
    }, { expireIn: 300 })
    .sum(["live", "presence", id], 1n)
    .commit();
  assert.deepEqual((await a.nextOf("presence", id)).viewers, [{ id: "ghost-user", name: "Ghost" }]);
  assert.deepEqual((await a.nextOf("presence", id)).viewers, []);
  await a.close();
  await t.close();
});
