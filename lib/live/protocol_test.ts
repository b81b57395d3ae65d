import assert from "node:assert/strict";
import { parseClientMessage, resyncSince } from "./protocol.ts";

Deno.test("[live protocol] client messages parse into typed messages", () => {
  assert.deepEqual(parseClientMessage('{"type":"subscribe","ticket_id":3}'), {
    ok: true,
    msg: { type: "subscribe", ticket_id: 3 },
  });
  assert.deepEqual(parseClientMessage('{"type":"unsubscribe","ticket_id":3,"x":1}'), {
    ok: true,
    msg: { type: "unsubscribe", ticket_id: 3 },
  });
  assert.deepEqual(parseClientMessage('{"type":"pong"}'), { ok: true, msg: { type: "pong" } });
  assert.deepEqual(parseClientMessage('{"type":"resync"}'), {
    ok: true,
    msg: { type: "resync", since: null },
  });
});

Deno.test("[live protocol] bad frames name what is wrong and never throw", () => {
  const code = (d: unknown) => {
    const r = parseClientMessage(d);
    return r.ok ? "ok" : r.code;
  };
  assert.equal(code(new Uint8Array(2)), "unsupported_frame");
  assert.equal(code("{"), "invalid_json");
  assert.equal(code("null"), "invalid_message");
  assert.equal(code('"subscribe"'), "invalid_message");
  assert.equal(code('{"type":7}'), "unknown_type");
  assert.equal(code('{"type":"subscribe"}'), "invalid_ticket_id");
  assert.equal(code('{"type":"subscribe","ticket_id":0}'), "invalid_ticket_id");
  assert.equal(code('{"type":"subscribe","ticket_id":1e300}'), "invalid_ticket_id");
  assert.equal(code('{"type":"resync","since":[1]}'), "invalid_message");
  assert.equal(code(JSON.stringify({ type: "pong", pad: "x".repeat(5000) })), "too_large");
});

Deno.test("[live protocol] resync since.at takes epoch ms or an ISO time", () => {
  assert.equal(resyncSince({ at: 1700000000000 }), 1700000000000);
  assert.equal(resyncSince({ at: "2024-01-02T03:04:05.000Z" }), Date.UTC(2024, 0, 2, 3, 4, 5));
  assert.equal(resyncSince({ at: "soon" }), null);
  assert.equal(resyncSince({}), null);
  assert.equal(resyncSince(null), null);
});
