/**
 * Ticket operations the routes call: web tickets, agent replies (handing email tickets to the
 * outbound planner), assignment, and the ticket view that marks a ticket read.
 */
import { ulid } from "ulid";
import { HttpError } from "./fw/mod.ts";
import type { Services } from "./state.ts";
import type { PublicUser } from "./db/users.ts";
import {
  appendMessage,
  createTicket,
  type Delivery,
  listMessages,
  type Message,
} from "./db/messages.ts";
import { markRead, patchTicket, type TicketPatch } from "./db/inbox.ts";
import {
  publicTicket,
  requireTicket,
  type Ticket,
  type TicketRecord,
  unreadFlags,
} from "./db/tickets.ts";
import { requireCustomer } from "./db/customers.ts";

/** What the outbound mail module decides for an agent's reply on an email ticket. */
export interface OutboundPlan {
  message_id: string;
  in_reply_to: string | null;
  references: string[];
  delivery: Delivery;
  outbox: { record: unknown; queue: unknown; delayMs?: number };
}

/** Installed by lib/mail/outbound at boot as `svc.ext.planOutbound`. */
export type PlanOutbound = (
  svc: Services,
  ticket: TicketRecord,
  messageId: string,
  author: PublicUser,
  body: string,
) => Promise<OutboundPlan | null>;

/** Create a ticket from the web form; the creator is its sender and has read it. */
export async function createWebTicket(
  svc: Services,
  user: PublicUser,
  input: { subject: string; body: string; customer_id?: string },
): Promise<Ticket> {
  if (input.customer_id) await requireCustomerOr422(svc.kv, input.customer_id);
  const res = await createTicket(svc.kv, {
    subject: input.subject,
    source: "web",
    from_name: user.name,
    from_email: user.email,
    customer_id: input.customer_id ?? null,
    first: {
      direction: "inbound",
      author_name: user.name,
      author_email: user.email,
      author_user_id: user.id,
      body_text: input.body,
      body_html: null,
      via_email: false,
      message_id: null,
      auto: false,
    },
  }, { actorUserId: user.id });
  if (res.duplicate) throw new HttpError(409, "Duplicate ticket", "conflict");
  return publicTicket(res.ticket, false);
}

async function requireCustomerOr422(kv: Deno.Kv, id: string) {
  try {
    return await requireCustomer(kv, id);
  } catch {
    throw new HttpError(422, `customer_id: customer ${id} does not exist`, "invalid_field");
  }
}

/** An agent's reply. On an email ticket it is queued for delivery in the same commit. */
export async function replyToTicket(
  svc: Services,
  user: PublicUser,
  ticketId: number,
  body: string,
): Promise<Message> {
  const ticket = await requireTicket(svc.kv, ticketId);
  const id = ulid();
  const planner = svc.ext.planOutbound as PlanOutbound | undefined;
  const plan = ticket.source === "email" && planner
    ? await planner(svc, ticket, id, user, body)
    : null;
  const res = await appendMessage(
    svc.kv,
    ticketId,
    {
      id,
      direction: "outbound",
      author_name: user.name,
      author_email: user.email,
      author_user_id: user.id,
      body_text: body,
      body_html: null,
      via_email: plan !== null,
      message_id: plan?.message_id ?? null,
      auto: false,
      delivery: plan?.delivery ?? null,
      in_reply_to: plan?.in_reply_to ?? null,
      references: plan?.references ?? [],
    },
    { newToOpen: true },
    { actorUserId: user.id, outbox: plan?.outbox },
  );
  if (res.duplicate) throw new HttpError(409, "Duplicate message", "conflict");
  const [m] = await listMessagesById(svc, ticketId, [res.message.id]);
  return m;
}

async function listMessagesById(
  svc: Services,
  ticketId: number,
  ids: string[],
): Promise<Message[]> {
  return (await listMessages(svc.kv, ticketId)).filter((m) => ids.includes(m.id));
}

/** The ticket page/API view: ticket and thread; marks the ticket read for the caller. */
export async function viewTicket(
  svc: Services,
  user: PublicUser,
  ticketId: number,
): Promise<{ ticket: Ticket; messages: Message[] }> {
  await requireTicket(svc.kv, ticketId);
  await markRead(svc.kv, ticketId, user.id);
  const ticket = await requireTicket(svc.kv, ticketId);
  const [unread] = await unreadFlags(svc.kv, user.id, [ticketId]);
  return { ticket: publicTicket(ticket, unread), messages: await listMessages(svc.kv, ticketId) };
}

/** Change status/subject, or assign/move to a customer. */
export async function updateTicket(
  svc: Services,
  user: PublicUser,
  ticketId: number,
  patch: TicketPatch,
): Promise<Ticket> {
  const t = await patchTicket(svc.kv, ticketId, patch);
  const [unread] = await unreadFlags(svc.kv, user.id, [ticketId]);
  return publicTicket(t, unread);
}
