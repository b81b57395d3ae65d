import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { domainOf, findThread, quotedMessageIds, type ThreadLookup, trusted } from "./thread.ts";
import type { ParsedMail } from "./parse.ts";

/** A lookup over plain maps: ids → ticket, tickets, participants. */
function fakeLookup(
  ids: Record<string, number>,
  tickets: { id: number; from_email: string; status?: "new" | "open" | "resolved" }[],
  participants: [number, string][] = [],
): ThreadLookup {
  return {
    ticketByMessageId: (id) => Promise.resolve(ids[id.toLowerCase()] ?? null),
    ticket: (id) => {
      const t = tickets.find((x) => x.id === id);
      return Promise.resolve(t ? { status: "open" as const, ...t } : null);
    },
    isParticipant: (t, e) =>
      Promise.resolve(participants.some(([id, em]) => id === t && em === e.toLowerCase())),
  };
}

type ThreadMail = Pick<
  ParsedMail,
  "warmdeskTicketId" | "inReplyTo" | "references" | "subjectTicketId" | "from"
>;

function m(over: Partial<ThreadMail>): ThreadMail {
  return {
    warmdeskTicketId: null,
    inReplyTo: [],
    references: [],
    subjectTicketId: null,
    from: { name: "", email: "cara@customer.example" },
    ...over,
  };
}

const L = fakeLookup(
  { "<a@x>": 1, "<b@x>": 2, "<out@helpdesk.example>": 3 },
  [
    { id: 1, from_email: "cara@customer.example" },
    { id: 2, from_email: "dan@other.example" },
    { id: 3, from_email: "cara@customer.example" },
    { id: 4, from_email: "gail@gmail.com" },
  ],
  [[2, "cara@customer.example"]],
);

Deno.test("[thread] rules in order: header, In-Reply-To, References, subject tag", async () => {
  const all = m({
    warmdeskTicketId: 1,
    inReplyTo: ["<b@x>"],
    references: ["<out@helpdesk.example>"],
    subjectTicketId: 2,
  });
  deepStrictEqual((await findThread(all, L)).match, {
    ticketId: 1,
    rule: "header",
    status: "open",
  });
  deepStrictEqual(
    (await findThread({ ...all, warmdeskTicketId: null }, L)).match?.rule,
    "in-reply-to",
  );
  deepStrictEqual(
    (await findThread({ ...all, warmdeskTicketId: null, inReplyTo: [] }, L)).match,
    { ticketId: 3, rule: "references", status: "open" },
  );
  deepStrictEqual(
    (await findThread(m({ subjectTicketId: 1 }), L)).match?.rule,
    "subject",
  );
  strictEqual((await findThread(m({}), L)).match, null);
});

Deno.test("[thread] a References chain matches on an id in the middle", async () => {
  const r = await findThread(m({ references: ["<root@nowhere>", "<B@X>", "<last@nowhere>"] }), L);
  deepStrictEqual(r.match, { ticketId: 2, rule: "references", status: "open" });
});

Deno.test("[thread] a stranger's header or tag does not count; a Message-ID match does", async () => {
  const stranger = { name: "M", email: "mallory@evil.example" };
  const h = await findThread(m({ from: stranger, warmdeskTicketId: 1, subjectTicketId: 1 }), L);
  strictEqual(h.match, null);
  deepStrictEqual(h.untrusted.map((c) => c.rule), ["header", "subject"]);
  // the untrusted header is passed over, the next (trusted) rule wins
  const next = await findThread(
    m({ from: stranger, warmdeskTicketId: 1, inReplyTo: ["<a@x>"] }),
    L,
  );
  deepStrictEqual(next.match?.rule, "in-reply-to");
});

Deno.test("[thread] trust: participant, same domain, but not a shared freemail domain", async () => {
  strictEqual(
    await trusted({ id: 2, from_email: "dan@other.example" }, "CARA@customer.example", L),
    true,
  );
  strictEqual(
    await trusted({ id: 1, from_email: "cara@customer.example" }, "boss@customer.example", L),
    true,
  );
  strictEqual(
    await trusted({ id: 1, from_email: "cara@customer.example" }, "x@sub.customer.example", L),
    false,
  );
  strictEqual(await trusted({ id: 4, from_email: "gail@gmail.com" }, "other@gmail.com", L), false);
  strictEqual(await trusted({ id: 4, from_email: "gail@gmail.com" }, "", L), false);
  strictEqual(domainOf("A@Example.COM."), "example.com");
});

Deno.test("[thread] a missing ticket from a tag is passed over", async () => {
  strictEqual((await findThread(m({ subjectTicketId: 99 }), L)).match, null);
});

Deno.test("[thread] bounces: the original's Message-ID quoted in the body", async () => {
  const raw = new TextEncoder().encode(
    "From: MAILER-DAEMON@mx.example\r\nMessage-ID: <own@mx.example>\r\n\r\n" +
      "----- Original message headers -----\r\nMessage-ID: <own@mx.example>\r\n" +
      "message-id:  <out@helpdesk.example>\r\n> Message-ID: <a@x>\r\n",
  );
  const ids = quotedMessageIds(raw, "<own@mx.example>");
  deepStrictEqual(ids, ["<out@helpdesk.example>", "<a@x>"]);
  const r = await findThread(m({ from: { name: "", email: "mailer-daemon@mx.example" } }), L, ids);
  deepStrictEqual(r.match, { ticketId: 3, rule: "quoted", status: "open" });
  deepStrictEqual(quotedMessageIds(new TextEncoder().encode("Message-ID: <h@x>\r\n"), null), []);
});
