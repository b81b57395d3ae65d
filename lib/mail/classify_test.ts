import assert from "node:assert/strict";
import { classify } from "./classify.ts";
import type { Address } from "./parse.ts";

const person: Address = { name: "Anna", email: "anna@customer.example" };
const h = (pairs: [string, string][]) => pairs.map(([key, value]) => ({ key, value }));

Deno.test("[classify] a normal human message is not auto", () => {
  assert.equal(
    classify(h([["subject", "Hi"]]), "text/plain", person, "anna@customer.example"),
    null,
  );
  assert.equal(classify([], null, null, null), null);
});

Deno.test("[classify] RFC 3834 Auto-Submitted other than no is an auto-reply", () => {
  for (const v of ["auto-replied", "auto-generated", "Auto-Notified", "auto-replied; owner=x"]) {
    assert.equal(classify(h([["auto-submitted", v]]), null, person, "a@b"), "auto-reply", v);
  }
  for (const v of ["no", "No", " no ", "no (human)"]) {
    assert.equal(classify(h([["auto-submitted", v]]), null, person, "a@b"), null, v);
  }
});

Deno.test("[classify] X-Autoreply / X-Autorespond and Precedence mark auto-replies", () => {
  assert.equal(classify(h([["x-autoreply", "yes"]]), null, person, null), "auto-reply");
  assert.equal(classify(h([["X-Autorespond", ""]]), null, person, null), "auto-reply");
  for (const p of ["bulk", "junk", "auto_reply", " BULK "]) {
    assert.equal(classify(h([["precedence", p]]), null, person, null), "auto-reply", p);
  }
  assert.equal(classify(h([["precedence", "list"]]), null, person, null), null);
});

Deno.test("[classify] DSNs, MAILER-DAEMON, postmaster and the null sender are bounces", () => {
  const dsn = "multipart/report; report-type=delivery-status; boundary=x";
  assert.equal(classify([], dsn, person, "a@b"), "bounce");
  assert.equal(
    classify([], 'multipart/report; report-type="delivery-status"', person, null),
    "bounce",
  );
  assert.equal(classify([], "multipart/report", person, null), "bounce");
  const md = { name: "", email: "mailer-daemon@mx.example" };
  assert.equal(classify([], "text/plain", md, "x@y"), "bounce");
  const pm = { name: "", email: "Postmaster@mx.example" };
  assert.equal(classify([], "text/plain", pm, "x@y"), "bounce");
  assert.equal(classify([], "text/plain", person, ""), "bounce");
  assert.equal(classify(h([["content-type", dsn]]), null, person, null), "bounce");
});

Deno.test("[classify] order: a DSN wins over Auto-Submitted, Auto-Submitted over a null sender", () => {
  const auto = h([["auto-submitted", "auto-replied"]]);
  assert.equal(
    classify(auto, "multipart/report; report-type=delivery-status", person, ""),
    "bounce",
  );
  assert.equal(classify(auto, "text/plain", person, ""), "auto-reply");
  const mdn = "multipart/report; report-type=disposition-notification";
  assert.equal(classify([], mdn, person, "a@b"), "auto-reply");
});
