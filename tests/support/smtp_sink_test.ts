// Self-tests of the in-process SMTP sink (capture, AUTH, STARTTLS, implicit TLS, refuse, down/up).
import assert from "node:assert/strict";
import nodemailer from "nodemailer";
import PostalMime from "postal-mime";
import { startSmtpSink } from "./smtp_sink.ts";
import { mailEnv } from "./mailstack.ts";

function message(i: number) {
  return {
    from: "Helpdesk <help@example.test>",
    to: "customer@external.example",
    subject: `Re: [#${i}] Printer`,
    text: `reply ${i}`,
    headers: { "X-WarmDesk-Ticket-Id": String(i) },
  };
}

Deno.test("[smtp_sink] captures mail with envelope and headers", async () => {
  const sink = await startSmtpSink();
  const tr = nodemailer.createTransport({ host: sink.host, port: sink.port, ignoreTLS: true });
  try {
    await tr.sendMail(message(1));
    await tr.sendMail(message(2));
    const [a, b] = await sink.waitFor(2);
    assert.deepEqual(a.to, ["customer@external.example"]);
    assert.equal(a.from, "help@example.test");
    assert.equal(a.secure, false);
    const p = await PostalMime.parse(b.raw);
    assert.equal(p.subject, "Re: [#2] Printer");
    // nodemailer rewrites header name case: compare names case-insensitively
    assert.equal(p.headers.find((h) => h.key === "x-warmdesk-ticket-id")?.value, "2");
  } finally {
    tr.close();
    await sink.close();
  }
});

Deno.test("[smtp_sink] AUTH required after STARTTLS; wrong password refused", async () => {
  const sink = await startSmtpSink({ auth: { user: "agent", pass: "s3cret" }, tls: "starttls" });
  const tls = { ca: mailEnv().ca };
  const good = nodemailer.createTransport({
    host: sink.host,
    port: sink.port,
    requireTLS: true,
    tls,
    auth: { user: "agent", pass: "s3cret" },
  });
  const bad = nodemailer.createTransport({
    host: sink.host,
    port: sink.port,
    requireTLS: true,
    tls,
    auth: { user: "agent", pass: "wrong" },
  });
  const anon = nodemailer.createTransport({
    host: sink.host,
    port: sink.port,
    requireTLS: true,
    tls,
  });
  try {
    await good.sendMail(message(3));
    const [m] = await sink.waitFor(1);
    assert.equal(m.user, "agent");
    assert.equal(m.secure, true);
    await assert.rejects(() => bad.sendMail(message(4)), /535|Invalid login/i);
    assert.equal(sink.authFailures, 1);
    await assert.rejects(() => anon.sendMail(message(5)), /530|auth/i);
    assert.equal(sink.messages.length, 1);
  } finally {
    good.close();
    bad.close();
    anon.close();
    await sink.close();
  }
});

Deno.test("[smtp_sink] implicit TLS with the stack certificate", async () => {
  const sink = await startSmtpSink({ tls: "implicit" });
  const tr = nodemailer.createTransport({
    host: sink.host,
    port: sink.port,
    secure: true,
    tls: { ca: mailEnv().ca },
  });
  try {
    await tr.sendMail(message(6));
    const [m] = await sink.waitFor(1);
    assert.equal(m.secure, true);
  } finally {
    tr.close();
    await sink.close();
  }
});

Deno.test("[smtp_sink] refuse with 451/550, accept again, down and up on the same port", async () => {
  const sink = await startSmtpSink();
  const tr = nodemailer.createTransport({ host: sink.host, port: sink.port, ignoreTLS: true });
  try {
    sink.refuse(451);
    await assert.rejects(() => tr.sendMail(message(7)), (e: { responseCode?: number }) => {
      assert.equal(e.responseCode, 451);
      return true;
    });
    sink.refuse(550, "no such mailbox");
    await assert.rejects(() => tr.sendMail(message(8)), /550/);
    sink.accept();
    await tr.sendMail(message(9));
    assert.equal((await sink.waitFor(1)).length, 1);

    const port = sink.port;
    await sink.down();
    assert.equal(sink.isUp, false);
    await assert.rejects(() => tr.sendMail(message(10)), /ECONNREFUSED|connect/i);
    await sink.up();
    assert.equal(sink.port, port);
    await tr.sendMail(message(11));
    const all = await sink.waitFor(2);
    assert.equal((await PostalMime.parse(all[1].raw)).subject, "Re: [#11] Printer");
  } finally {
    tr.close();
    await sink.close();
  }
});

Deno.test("[smtp_sink] down() drops a pooled client's open connection", async () => {
  const sink = await startSmtpSink();
  const tr = nodemailer.createTransport({
    host: sink.host,
    port: sink.port,
    ignoreTLS: true,
    pool: true,
    maxConnections: 1,
  });
  try {
    await tr.sendMail(message(12));
    await sink.down();
    await assert.rejects(() => tr.sendMail(message(13)));
    await sink.up();
    await tr.sendMail(message(14));
    assert.equal((await sink.waitFor(2)).length, 2);
  } finally {
    tr.close();
    await sink.close();
  }
});

Deno.test("[smtp_sink] waitFor rejects when mail does not come", async () => {
  const sink = await startSmtpSink();
  try {
    await assert.rejects(() => sink.waitFor(1, 50), /0 of 1/);
  } finally {
    await sink.close();
  }
});
