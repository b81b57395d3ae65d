/**
 * `GET /api/v1/ws` at its edges: who is refused, more subscriptions than one KV watch holds,
 * bad client messages, and the release of everything a socket held when it closes.
 */
import assert from "node:assert/strict";
import { agentClient, startTestApp } from "./support/app.ts";
import { agent, mailTicket, WsClient } from "../lib/live/testing.ts";
import { liveHub } from "../lib/live/upgrade.ts";
import { KV_WATCH_MAX } from "../lib/db/limits.ts";
import { keys } from "../lib/db/keys.ts";

Deno.test("[ws] refuses a socket without a session, and a plain GET", async () => {
  const t = await startTestApp();
  const anon = await t.anon().json("GET", "/api/v1/ws");
  assert.equal(anon.status, 401);
  assert.equal(anon.body.code, "unauthorized");
  await assert.rejects(WsClient.connect(t.url, null), /failed to open/);
  await assert.rejects(WsClient.connect(t.url, "warmdesk_session=" + "0".repeat(64)));
  const admin = await t.client();
  const plain = await admin.json("GET", "/api/v1/ws");
  assert.equal(plain.status, 426);
  assert.equal(plain.body.code, "upgrade_required");
  assert.equal(liveHub(t.app.svc)!.stats().sockets, 0);
  await t.close();
});

Deno.test("[ws] refuses a foreign Origin and an agent without helpdesk access", async () => {
  const t = await startTestApp();
  const admin = await t.client();
  const handshake = {
    upgrade: "websocket",
    connection: "Upgrade",
    "sec-websocket-key": btoa("0123456789abcdef"),
    "sec-websocket-version": "13",
  };
  const foreign = await admin.fetch("/api/v1/ws", {
    headers: { ...handshake, origin: "https://evil.example" },
  });
  assert.equal(foreign.status, 403);
  assert.equal((await foreign.json()).code, "csrf");
  const nodesk = await agentClient(t, {
    email: "nodesk@desk.test",
    name: "No Desk",
    helpdesk: false,
  });
  const refused = await nodesk.fetch("/api/v1/ws", { headers: handshake });
  assert.equal(refused.status, 403);
  assert.equal((await refused.json()).code, "helpdesk_disabled");
  await assert.rejects(WsClient.connect(t.url, nodesk.cookie));
  await t.close();
});

Deno.test("[ws] a socket subscribed to more tickets than one watch holds gets every event", async () => {
  const t = await startTestApp();
  const hub = liveHub(t.app.svc)!;
  const n = KV_WATCH_MAX + 3; // 13 tickets = 26 sentinel keys: three watches
  const ids: number[] = [];
  for (let i = 0; i < n; i++) ids.push(await mailTicket(t.kv, `ticket ${i}`));
  const admin = await t.client();
  const ws = await WsClient.connect(t.url, admin.cookie);
  for (const id of ids) await ws.subscribe(id);
  const s = hub.stats();
  assert.equal(s.tickets, n);
  assert.ok(s.watches >= 1 + Math.ceil((2 * n) / KV_WATCH_MAX), JSON.stringify(s));
  for (const id of ids) {
    const r = await admin.json("POST", `/api/v1/tickets/${id}/messages`, { body: `re ${id}` });
    assert.equal(r.status, 201);
  }
  for (const id of ids) {
    const ev = await ws.nextOf("message", id);
    assert.equal(ev.message.body_text, `re ${id}`);
  }
  // dropping some tickets re-creates the watches; the rest still get events
  for (const id of ids.slice(0, 7)) ws.send({ type: "unsubscribe", ticket_id: id });
  const last = ids.at(-1)!;
  await ws.subscribe(last); // answered after the unsubscribes were handled
  assert.equal(hub.stats().tickets, n - 7);
  await admin.json("PATCH", `/api/v1/tickets/${last}`, { status: "pending" });
  await ws.next((e) =>
    e.type === "ticket_update" && e.ticket_id === last && e.ticket.status === "pending"
  );
  const updatesOf = (id: number) => ws.all("ticket_update").filter((e) => e.ticket_id === id);
  const before = updatesOf(ids[0]).length;
  await admin.json("PATCH", `/api/v1/tickets/${ids[0]}`, { status: "pending" });
  await ws.next((e) => e.type === "ticket" && e.ticket_id === ids[0] && e.reason === "updated");
  await ws.subscribe(last);
  assert.equal(updatesOf(ids[0]).length, before, "no update for an unsubscribed ticket");
  await ws.close();
  await t.close();
});

Deno.test("[ws] bad client messages get error events and the socket stays open", async () => {
  const t = await startTestApp();
  const admin = await t.client();
  const ws = await WsClient.connect(t.url, admin.cookie);
  const cases: [unknown, string][] = [
    ["not json", "invalid_json"],
    ["[1,2]", "invalid_message"],
    [{ type: "dance" }, "unknown_type"],
    [{ nothing: true }, "unknown_type"],
    [{ type: "subscribe", ticket_id: "7" }, "invalid_ticket_id"],
    [{ type: "subscribe", ticket_id: -1 }, "invalid_ticket_id"],
    [{ type: "subscribe", ticket_id: 1.5 }, "invalid_ticket_id"],
    [{ type: "subscribe", ticket_id: 999 }, "not_found"],
    [{ type: "resync", since: "yesterday" }, "invalid_message"],
    ["x".repeat(5000), "too_large"],
  ];
  for (const [msg, code] of cases) {
    ws.send(msg);
    const ev = await ws.nextOf("error");
    assert.equal(ev.code, code, JSON.stringify(msg).slice(0, 60));
    assert.equal(typeof ev.error, "string");
  }
  ws.socket.send(new Uint8Array([1, 2, 3]));
  assert.equal((await ws.nextOf("error")).code, "unsupported_frame");
  // still usable
  const id = await mailTicket(t.kv);
  assert.deepEqual(await ws.subscribe(id), { type: "presence", ticket_id: id, viewers: [] });
  ws.send({ type: "pong" });
  ws.send({ type: "resync", since: { at: Date.now() - 1000 } });
  assert.deepEqual(await ws.next((e) => e.type === "ticket" && e.ticket_id === id), {
    type: "ticket",
    ticket_id: id,
    reason: "created",
  });
  assert.equal(ws.socket.readyState, WebSocket.OPEN);
  await ws.close();
  await t.close();
});

Deno.test("[ws] closing sockets releases watches, presence rows and background work", async () => {
  const t = await startTestApp();
  const hub = liveHub(t.app.svc)!;
  const ids = [await mailTicket(t.kv), await mailTicket(t.kv), await mailTicket(t.kv)];
  const admin = await t.client();
  const { client: bob } = await agent(t, "Bob");
  const a = await WsClient.connect(t.url, admin.cookie);
  const b = await WsClient.connect(t.url, bob.cookie);
  for (const id of ids) {
    await a.subscribe(id);
    await b.subscribe(id);
  }
  const busy = hub.stats();
  assert.equal(busy.sockets, 2);
  assert.equal(busy.tickets, 3);
  assert.equal(busy.presence_rows, 6);
  assert.ok(busy.running && busy.watches >= 2);
  let rows = 0;
  for await (const _ of t.kv.list({ prefix: ["presence"] })) rows++;
  assert.equal(rows, 6);

  await a.close();
  await b.close();
  await hub.idle();
  assert.deepEqual(hub.stats(), {
    sockets: 0,
    tickets: 0,
    watches: 0,
    presence_rows: 0,
    running: false,
  });
  rows = 0;
  for await (const _ of t.kv.list({ prefix: ["presence"] })) rows++;
  assert.equal(rows, 0);
  // and a new socket starts everything again
  const c = await WsClient.connect(t.url, admin.cookie);
  assert.equal((await c.nextOf("inbox")).total, 3);
  await c.close();
  await t.close();
});

Deno.test("[ws] signing out closes the session's open sockets", async () => {
  const t = await startTestApp();
  const hub = liveHub(t.app.svc)!;
  hub.options.sessionRecheckMs = 100;
  const { client: bob } = await agent(t, "Bob");
  const ws = await WsClient.connect(t.url, bob.cookie);
  await ws.nextOf("inbox");
  assert.equal((await bob.json("POST", "/api/v1/auth/logout")).status, 204);
  const closed = await ws.closed;
  assert.equal(closed.code, 4401);
  await ws.close();
  await t.close();
});

Deno.test("[ws] stopping the app closes sockets and removes its presence rows", async () => {
  const t = await startTestApp();
  const id = await mailTicket(t.kv);
  const admin = await t.client();
  const ws = await WsClient.connect(t.url, admin.cookie);
  await ws.subscribe(id);
  await liveHub(t.app.svc)!.stop();
  assert.equal((await ws.closed).code, 1001);
  assert.equal((await t.kv.get(keys.livePresence(id))).versionstamp !== null, true);
  let rows = 0;
  for await (const _ of t.kv.list({ prefix: keys.presences(id) })) rows++;
  assert.equal(rows, 0);
  await ws.close();
  await t.close();
});
