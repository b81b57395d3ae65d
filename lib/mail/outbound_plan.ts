/**
 * Planning outbound replies: the planner that `replyToTicket` calls for email tickets (it fixes
 * the Message-ID, threading headers, recipient and subject, and returns the outbox record and
 * queue message that ride in the reply's commit), and the manual retry of a failed delivery.
 */
import { HttpError } from "../fw/mod.ts";
import type { OutboundPlan, PlanOutbound } from "../helpdesk.ts";
import type { Services } from "../state.ts";
import { keys } from "../db/keys.ts";
import { type Message, type MessageRecord, publicMessage, updateDelivery } from "../db/messages.ts";
import { logger } from "../log.ts";
import { newMessageId, normalizeMessageId } from "./ids.ts";
import { isValidEmail, referencesChain, replySubject } from "./outbound_headers.ts";
import { getSmtpRecord } from "./smtp_settings.ts";
import { OUTBOUND_SEND, type OutboundQueueMessage, type OutboxRecord } from "./outbox.ts";

const log = logger("smtp");

/**
 * The domain for our Message-IDs: the from address's, else the public URL's host (so a reply
 * written before SMTP is set up still gets a stable id), else `warmdesk.invalid`.
 */
export function messageIdDomain(fromAddress: string | null | undefined, baseUrl: string): string {
  const at = fromAddress ? fromAddress.lastIndexOf("@") : -1;
  if (fromAddress && at > 0) return fromAddress.slice(at + 1);
  try {
    return new URL(baseUrl).hostname;
  } catch {
    return "warmdesk.invalid";
  }
}

/**
 * Plan the mail for an agent's reply on an email ticket: null (nothing is sent) for web tickets
 * and for email tickets without a human sender to answer (only auto-replies came in).
 */
export const planOutbound: PlanOutbound = async (svc, ticket, messageUlid) => {
  if (ticket.source !== "email") return null;
  const target = ticket.reply_target;
  if (!target || !target.email) return null;
  const settings = await getSmtpRecord(svc.kv);
  const message_id = newMessageId(messageIdDomain(settings?.from_address, svc.config.base_url));
  const in_reply_to = normalizeMessageId(target.message_id);
  const references = referencesChain({
    messageId: target.message_id,
    references: target.references ?? [],
  });
  const now = new Date();
  // an address that could not be written into a header never gets a send attempt
  const bad = isValidEmail(target.email)
    ? null
    : `Recipient address "${target.email}" is not valid`;
  const record: OutboxRecord = {
    v: 1,
    ticket_id: ticket.id,
    message: messageUlid,
    message_id,
    to: { email: target.email, name: target.name ?? "" },
    subject: replySubject(ticket.id, ticket.subject),
    in_reply_to,
    references,
    state: bad ? "failed" : "queued",
    attempts: 0,
    in_doubt: 0,
    queued_at: now.toISOString(),
    next_at: now.getTime(),
    lease_until: null,
    last_error: bad,
  };
  const queue: OutboundQueueMessage = { type: OUTBOUND_SEND, id: messageUlid };
  const plan: OutboundPlan = {
    message_id,
    in_reply_to,
    references,
    delivery: { status: bad ? "failed" : "queued", attempts: 0, error: bad },
    outbox: { record, queue },
  };
  return plan;
};

/**
 * Queue a failed delivery again (the retry button): same Message-ID and recipient, a fresh
 * 24 h retry window, first attempt at once. 404 when the message is not on the ticket or was
 * not sent by email; 409 `not_failed` unless its delivery failed.
 */
export async function retryDelivery(
  svc: Services,
  ticketId: number,
  messageUlid: string,
): Promise<Message> {
  const cur = await svc.kv.get<MessageRecord>(keys.message(ticketId, messageUlid));
  const m = cur.value;
  if (!m || m.direction !== "outbound" || !m.via_email || !m.delivery) {
    throw new HttpError(404, "No outbound mail with this id on this ticket", "not_found");
  }
  const ob = await svc.kv.get<OutboxRecord>(keys.outbox(messageUlid));
  if (m.delivery.status !== "failed" || !ob.value || ob.value.state !== "failed") {
    throw new HttpError(
      409,
      `Only a failed delivery can be retried; this one is ${m.delivery.status}`,
      "not_failed",
    );
  }
  const now = new Date();
  const next: OutboxRecord = {
    ...ob.value,
    state: "queued",
    in_doubt: 0,
    queued_at: now.toISOString(),
    next_at: now.getTime(),
    lease_until: null,
    last_error: null,
  };
  let changed = false;
  const rec = await updateDelivery(svc.kv, ticketId, messageUlid, (c) => {
    changed = c.delivery?.status === "failed";
    return changed ? { status: "queued", attempts: c.delivery!.attempts, error: null } : null;
  }, (op) => {
    op.check(ob).set(ob.key, next).enqueue({ type: OUTBOUND_SEND, id: messageUlid, kick: true });
  });
  if (!rec || !changed) {
    throw new HttpError(409, "The delivery changed meanwhile; reload", "not_failed");
  }
  log.info("failed delivery queued again", { ticket_id: ticketId, message: messageUlid });
  return await publicMessage(svc.kv, rec);
}
