/**
 * The full round trip on the loopback mail stack (Postfix → LMTP → Dovecot), through the real
 * incoming pipeline (IMAP poll) and outgoing one (outbox → SMTP):
 *
 * 1. the customer mails the helpdesk mailbox; "Poll now" makes it a ticket;
 * 2. the agent's reply goes out through Postfix with STARTTLS and lands in the customer's
 *    mailbox once, with our headers;
 * 3. the customer's answers, one carrying only `In-Reply-To`, one carrying only
 *    `X-WarmDesk-Ticket-Id`, come back through Postfix and thread onto the same ticket.
 *
 * Needs the stack (`deno task test` starts it); fails without it.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { startTestApp } from "./support/app.ts";
import { deliver, listMailbox, mailEnv, takeUser } from "./support/mailstack.ts";
import { parseMail } from "../lib/mail/parse.ts";
import { renderRaw } from "../lib/mail/outbound_mail.ts";

/** Waits until `user`'s INBOX holds the message with this Message-ID; answers its source. */
async function waitForMessage(user: { email: string; password: string }, messageId: string) {
  for (let i = 0;; i++) {
    const found = (await listMailbox(user, "INBOX")).filter((m) => m.messageId === messageId);
    if (found.length > 0) {
      strictEqual(found.length, 1, `exactly one copy of ${messageId}`);
      return found[0].source;
    }
    if (i > 150) throw new Error(`${messageId} never reached ${user.email}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

Deno.test("[smtp] round trip: reply by Postfix into Dovecot, customer answers thread back", async () => {
  const env = mailEnv();
  ok(env.postfixPort, "the stack runs Postfix");
  await using desk = await takeUser();
  await using customer = await takeUser();
  const t = await startTestApp();
  try {
    const admin = await t.client();
    const smtp = await admin.json("PUT", "/api/v1/admin/smtp", {
      host: env.host,
      port: env.postfixPort,
      security: "starttls",
      tls_verify: false, // the stack's certificate is self-signed
      from_address: desk.email,
      from_name: "Example Helpdesk",
    });
    strictEqual(smtp.status, 200, JSON.stringify(smtp.body));
    const imap = await admin.json("PUT", "/api/v1/admin/imap", {
      host: env.host,
      port: env.imapPort,
      security: "none",
      username: desk.email,
      password: desk.password,
      enabled: false, // only "Poll now": no scheduled poll races the test
      idle: false,
    });
    strictEqual(imap.status, 200, JSON.stringify(imap.body));

    /** The customer's mail client sends `mail` to the helpdesk; then "Poll now". */
    const customerSends = async (mail: Record<string, unknown>) => {
      const messageId = `<${crypto.randomUUID()}@${env.domain}>`;
      const raw = await renderRaw({
        from: { name: "Cara Customer", address: customer.email },
        to: desk.email,
        messageId,
        text: "Hello from the customer.",
        ...mail,
      });
      await deliver(desk.email, raw, customer.email);
      await waitForMessage(desk, messageId);
      const poll = await admin.json("POST", "/api/v1/admin/imap/poll");
      strictEqual(poll.status, 200, JSON.stringify(poll.body));
      strictEqual(poll.body.imported, 1, JSON.stringify(poll.body));
      return poll.body;
    };

    const first = await customerSends({ subject: "Invoice missing" });
    strictEqual(first.threaded, 0);
    const inbox = await admin.json("GET", "/api/v1/inbox");
    const ticket = inbox.body.tickets.find((x: { subject: string }) =>
      x.subject === "Invoice missing"
    );
    ok(ticket, "the customer's mail became a ticket");

    const r = await admin.json("POST", `/api/v1/tickets/${ticket.id}/messages`, {
      body: "Here is your invoice.",
    });
    strictEqual(r.status, 201);
    const reply = r.body.message;
    const p = await parseMail(await waitForMessage(customer, reply.message_id));
    strictEqual(p.subject, `Re: [#${ticket.id}] Invoice missing`);
    strictEqual(p.warmdeskTicketId, ticket.id);
    deepStrictEqual(p.to.map((a) => a.email), [customer.email]);
    strictEqual(p.from?.email, desk.email);
    strictEqual(p.inReplyTo.length, 1);
    deepStrictEqual(p.references, p.inReplyTo);
    strictEqual(p.auto, null);

    // an answer that keeps only In-Reply-To (no References, no [#N] tag, no header)
    const a = await customerSends({ subject: "About that", inReplyTo: reply.message_id });
    strictEqual(a.threaded, 1);
    // an answer that keeps only our X-WarmDesk-Ticket-Id header
    const b = await customerSends({
      subject: "One more thing",
      headers: { "X-WarmDesk-Ticket-Id": String(ticket.id) },
    });
    strictEqual(b.threaded, 1);

    const view = await admin.json("GET", `/api/v1/tickets/${ticket.id}`);
    deepStrictEqual(
      view.body.messages.map((m: { direction: string; body_text: string }) => m.direction),
      ["inbound", "outbound", "inbound", "inbound"],
    );
    const out = view.body.messages[1];
    deepStrictEqual(out.delivery, { status: "sent", attempts: 1, error: null });
    strictEqual(out.via_email, true);
    ok(out.message_id.endsWith(`@${env.domain}>`));
  } finally {
    await t.close();
  }
});
