import assert from "node:assert/strict";
import { backoffDelay, createLiveClient, type LiveEvent, type SocketLike } from "./client.ts";

/** A scripted socket: the test opens, feeds and closes it. */
class FakeSocket implements SocketLike {
  readyState = 0;
  sent: unknown[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  closedWith: number | null = null;
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close(code = 1000) {
    this.closedWith = code;
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  receive(ev: unknown) {
    this.onmessage?.({ data: JSON.stringify(ev) });
  }
  drop(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
}

/** Manual clock and timers. */
function fakeTime() {
  let now = 1_000_000;
  let next = 1;
  const timers = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => now,
    setTimer: (fn: () => void, ms: number) => {
      const id = next++;
      timers.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimer: (id: number) => void timers.delete(id),
    /** Advance the clock, running due timers in order. */
    advance(ms: number) {
      const end = now + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= end)
          .sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].fn();
      }
      now = end;
    },
    pending: () => [...timers.values()].map((t) => t.at - now).sort((a, b) => a - b),
  };
}

function setup() {
  const time = fakeTime();
  const sockets: FakeSocket[] = [];
  const client = createLiveClient({
    url: "ws://test/api/v1/ws",
    connect: () => {
      const s = new FakeSocket();
      sockets.push(s);
      return s;
    },
    random: () => 0.5,
    now: time.now,
    setTimer: time.setTimer,
    clearTimer: time.clearTimer,
  });
  return { client, sockets, time };
}

Deno.test("[live client] backoff doubles from the base, is capped, and jitters within half", () => {
  assert.equal(backoffDelay(0, 500, 30_000, () => 0), 250);
  assert.equal(backoffDelay(0, 500, 30_000, () => 1), 500);
  assert.equal(backoffDelay(3, 500, 30_000, () => 1), 4000);
  assert.equal(backoffDelay(20, 500, 30_000, () => 1), 30_000);
  assert.equal(backoffDelay(20, 500, 30_000, () => 0), 15_000);
  for (let i = 0; i < 50; i++) {
    const d = backoffDelay(i % 8, 500, 30_000);
    const cap = Math.min(30_000, 500 * 2 ** (i % 8));
    assert.ok(d >= cap / 2 && d <= cap, `${d} within [${cap / 2}, ${cap}]`);
  }
});

Deno.test("[live client] one socket; events reach listeners; ping is answered with pong", () => {
  const { client, sockets } = setup();
  client.start();
  client.start();
  assert.equal(sockets.length, 1);
  assert.equal(client.status.value, "connecting");
  sockets[0].open();
  assert.equal(client.status.value, "online");
  const got: LiveEvent[] = [];
  const all: string[] = [];
  const off = client.on("inbox", (e) => got.push(e));
  client.on("*", (e) => all.push(e.type));
  sockets[0].receive({ type: "inbox", unread: 2, total: 5 });
  sockets[0].receive({ type: "ping" });
  assert.deepEqual(got, [{ type: "inbox", unread: 2, total: 5 }]);
  assert.deepEqual(sockets[0].sent, [{ type: "pong" }]);
  assert.deepEqual(all, ["inbox", "ping"]);
  off();
  sockets[0].receive({ type: "inbox", unread: 3, total: 5 });
  assert.equal(got.length, 1);
  // garbage frames are ignored
  sockets[0].onmessage?.({ data: "not json" });
  sockets[0].onmessage?.({ data: "{}" });
  client.stop();
});

Deno.test("[live client] subscriptions are counted and re-sent after a reconnect; resync runs", () => {
  const { client, sockets, time } = setup();
  let connects = 0;
  client.onConnect(() => connects++);
  client.start();
  const un1 = client.subscribe(7); // before open: sent on open
  sockets[0].open();
  assert.equal(connects, 1);
  assert.deepEqual(sockets[0].sent, [{ type: "subscribe", ticket_id: 7 }]);
  const un2 = client.subscribe(7); // second holder: nothing new to send
  client.subscribe(9);
  assert.deepEqual(sockets[0].sent.slice(1), [{ type: "subscribe", ticket_id: 9 }]);
  un1();
  un1(); // idempotent
  assert.equal(sockets[0].sent.length, 2);
  un2();
  assert.deepEqual(sockets[0].sent.at(-1), { type: "unsubscribe", ticket_id: 7 });

  sockets[0].drop();
  assert.equal(client.status.value, "offline");
  assert.deepEqual(time.pending(), [375]); // attempt 0: between 250 and 500 ms
  time.advance(375);
  assert.equal(sockets.length, 2);
  assert.equal(client.status.value, "connecting");
  sockets[1].open();
  assert.equal(client.status.value, "online");
  assert.equal(connects, 2);
  assert.deepEqual(sockets[1].sent, [{ type: "subscribe", ticket_id: 9 }]);
  client.stop();
});

Deno.test("[live client] failed attempts back off further; success resets; reconnectNow skips", () => {
  const { client, sockets, time } = setup();
  client.start();
  sockets[0].drop();
  const waits: number[] = [];
  for (let i = 0; i < 4; i++) {
    waits.push(time.pending()[0]);
    time.advance(time.pending()[0]);
    sockets.at(-1)!.drop();
  }
  assert.deepEqual(waits, [375, 750, 1500, 3000]);
  assert.ok(client.retryAt.value! > time.now());
  client.reconnectNow();
  assert.equal(client.retryAt.value, null);
  sockets.at(-1)!.open();
  sockets.at(-1)!.drop();
  assert.deepEqual(time.pending(), [375]);
  client.stop();
  assert.deepEqual(time.pending(), []);
});

Deno.test("[live client] a socket silent for long after pings is closed and replaced", () => {
  const { client, sockets, time } = setup();
  client.start();
  sockets[0].open();
  // without a known ping rhythm nothing is judged
  time.advance(120_000);
  assert.equal(sockets[0].closedWith, null);
  sockets[0].receive({ type: "ping" });
  time.advance(25_000);
  sockets[0].receive({ type: "ping" });
  time.advance(60_000); // 2.4 intervals: still fine
  assert.equal(sockets[0].closedWith, null);
  time.advance(10_000);
  assert.equal(sockets[0].closedWith, 4000);
  // the retry (375 ms) already ran inside that step: a new socket is on its way
  assert.equal(sockets.length, 2);
  assert.equal(client.status.value, "connecting");
  client.stop();
});

Deno.test("[live client] a session-ended close is reported; stop closes for good", () => {
  const { client, sockets, time } = setup();
  const seen: string[] = [];
  client.on("session_ended", (e) => seen.push(e.type));
  client.start();
  sockets[0].open();
  sockets[0].drop(4401);
  assert.deepEqual(seen, ["session_ended"]);
  client.stop();
  time.advance(60_000);
  assert.equal(sockets.length, 1);
  assert.equal(client.status.value, "offline");
});
