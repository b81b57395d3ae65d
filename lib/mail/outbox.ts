/**
 * The durable outbox: one record per outbound mail under `keys.outbox(messageUlid)`, written in
 * the same commit as the reply, and the queue worker that delivers it.
 *
 * States of a record (docs/outgoing-mail.md has the full story):
 *
 * - `queued`  waiting for its next attempt at `next_at` (a delayed queue message is pending).
 * - `sending` claimed by a worker until `lease_until`; `attempts` already counts this attempt.
 *             The claim is a commit checked against the entry read, so two workers never send
 *             the same record at once.
 * - `failed`  final (a permanent rejection, or 24 h of retries ran out); kept so the
 *             message can be retried by hand with the same Message-ID.
 * - (gone)    delivered: the record is deleted in the commit that marks the message `sent`.
 *
 * A crash between the server's acceptance and that commit leaves the record `sending`. Once the
 * lease has expired, the worker cannot know whether the mail went out: it counts the attempt
 * as "in doubt" and sends again, built from the same record, so with the same Message-ID (the
 * customer's mail client shows one message; threading is unaffected). A second attempt in
 * doubt is not repeated: the message is marked failed with an error that says it may have been
 * delivered. So a crash can cause at most one resend.
 */
import type { Services } from "../state.ts";
import { keys } from "../db/keys.ts";
import { getMessageRecord, publicMessage, updateDelivery } from "../db/messages.ts";
import { logger } from "../log.ts";
import { getSmtpRecord, smtpConfigured } from "./smtp_settings.ts";
import { connectionOf } from "./smtp_settings.ts";
import { SEND_TIMEOUTS, sendViaSmtp, SmtpSendError } from "./smtp_transport.ts";
import { Buffer } from "node:buffer";
import { buildReplyMail, renderReplyRaw } from "./outbound_mail.ts";
import { isValidEmail } from "./outbound_headers.ts";

const log = logger("smtp");

/** Queue message type of outbound deliveries. */
export const OUTBOUND_SEND = "outbound.send";
/** Retries stop this long after the mail was queued (or retried by hand). */
export const GIVE_UP_AFTER_MS = 24 * 3600 * 1000;
/** How long a claim protects a send: longer than the longest send (SEND_TIMEOUTS.total). */
export const SEND_LEASE_MS = SEND_TIMEOUTS.total + 60_000;
/** Attempts whose outcome is unknown (crash while sending) before we stop resending. */
export const MAX_IN_DOUBT = 2;
/** Delay before retry n (1-based): 10 s, 30 s, 1, 2, 5, 10, 15, 30 min, then every 30 min. */
export const RETRY_DELAYS_MS = [
  10_000,
  30_000,
  60_000,
  120_000,
  300_000,
  600_000,
  900_000,
  1_800_000,
];

export type OutboxState = "queued" | "sending" | "failed";

/** One outbound mail waiting, being sent, or failed. Everything needed to (re)build it. */
export interface OutboxRecord {
  v: 1;
  ticket_id: number;
  /** The message's ULID (also the key). */
  message: string;
  /** RFC 5322 Message-ID `<...@domain>`, the same on every attempt. */
  message_id: string;
  to: { email: string; name: string };
  subject: string;
  in_reply_to: string | null;
  references: string[];
  state: OutboxState;
  attempts: number;
  /** Attempts interrupted by a crash while sending (outcome unknown). */
  in_doubt: number;
  /** Start of the 24 h retry window (ISO). */
  queued_at: string;
  /** When the next attempt is due (ms). */
  next_at: number;
  /** End of the current claim (ms) while `sending`. */
  lease_until: number | null;
  last_error: string | null;
}

/** The queue message. `kick` skips the wait for `next_at` (settings saved, manual retry). */
export interface OutboundQueueMessage {
  type: typeof OUTBOUND_SEND;
  id: string;
  kick?: boolean;
  [k: string]: unknown;
}

/** Delay before the retry that follows attempt number `attempts` (1-based). */
export function retryDelayMs(attempts: number): number {
  const i = Math.max(0, Math.min(attempts - 1, RETRY_DELAYS_MS.length - 1));
  return RETRY_DELAYS_MS[i];
}

/** Sends running in this process, by id (a duplicate queue message just returns). */
const inFlight = new Map<string, Promise<void>>();

/**
 * Wait for this process's running sends to finish (graceful stop), so a shutdown does not leave
 * records `sending` that would count as "in doubt" after the restart.
 */
export async function drainOutbox(): Promise<void> {
  await Promise.allSettled([...inFlight.values()]);
}

/** The queue handler: deliver one outbox record if it is due. Idempotent. */
export async function handleOutboundSend(svc: Services, msg: OutboundQueueMessage): Promise<void> {
  const key = keys.outbox(msg.id);
  for (let i = 0; i < 10; i++) {
    const entry = await svc.kv.get<OutboxRecord>(key);
    let rec = entry.value;
    if (!rec || rec.state === "failed") return; // delivered, or final
    const now = Date.now();
    if (rec.state === "sending") {
      if (inFlight.has(msg.id)) return;
      if ((rec.lease_until ?? 0) > now) {
        // another process holds the claim: look again when it ends
        await svc.kv.enqueue({ type: OUTBOUND_SEND, id: msg.id }, {
          delay: rec.lease_until! - now + 1000,
        });
        return;
      }
      rec = { ...rec, in_doubt: rec.in_doubt + 1 };
      log.warn("outbound send was interrupted; outcome unknown", {
        message: rec.message,
        ticket_id: rec.ticket_id,
        in_doubt: rec.in_doubt,
      });
      if (rec.in_doubt >= MAX_IN_DOUBT) {
        await finish(svc, entry, rec, {
          error: "Sending was interrupted twice; the mail may have been delivered. Check " +
            "with the customer before retrying.",
          final: true,
        });
        return;
      }
    } else if (!msg.kick && rec.next_at > now + 1000) {
      return; // an earlier message; the one scheduled for next_at will come
    }
    const claimed: OutboxRecord = {
      ...rec,
      state: "sending",
      attempts: rec.attempts + 1,
      lease_until: now + SEND_LEASE_MS,
    };
    const res = await svc.kv.atomic().check(entry).set(key, claimed).commit();
    if (!res.ok) continue; // changed under us: read again
    const running = attempt(svc, { key, value: claimed, versionstamp: res.versionstamp }, claimed);
    inFlight.set(msg.id, running);
    try {
      await running;
    } finally {
      inFlight.delete(msg.id);
    }
    return;
  }
}

async function attempt(
  svc: Services,
  claim: Deno.KvEntry<OutboxRecord>,
  rec: OutboxRecord,
): Promise<void> {
  const t0 = performance.now();
  try {
    const msgRec = await getMessageRecord(svc.kv, rec.message);
    if (!msgRec) {
      await svc.kv.atomic().check(claim).delete(claim.key).commit();
      return;
    }
    const settings = await getSmtpRecord(svc.kv);
    if (!smtpConfigured(settings)) {
      throw new SmtpSendError(
        "Outgoing mail is not set up (Admin → Settings → Outgoing Mail)",
        "config",
        false,
      );
    }
    if (!isValidEmail(rec.to.email)) {
      throw new SmtpSendError(`Recipient address "${rec.to.email}" is not valid`, "config", true);
    }
    const body = (await publicMessage(svc.kv, msgRec)).body_text;
    const mail = buildReplyMail(rec, settings, body);
    const raw = await renderReplyRaw(mail);
    const conn = await connectionOf(svc, settings);
    const res = await sendViaSmtp(conn, { envelope: mail.envelope, raw: Buffer.from(raw) });
    log.info("outbound mail accepted", {
      message: rec.message,
      ticket_id: rec.ticket_id,
      attempts: rec.attempts,
      ms: Math.round(performance.now() - t0),
      response: res.response,
    });
  } catch (e) {
    // anything that failed before or during the SMTP session is a known failure, not "in
    // doubt": the server did not accept the mail (or was never reached)
    const err = e instanceof SmtpSendError
      ? e
      : new SmtpSendError(`Could not send: ${(e as Error).message}`, "network", false);
    log.warn("outbound mail not accepted", {
      message: rec.message,
      ticket_id: rec.ticket_id,
      attempts: rec.attempts,
      kind: err.kind,
      error: err.message,
    });
    await finish(svc, claim, rec, { error: err.message, final: err.permanent });
    return;
  }
  // delivered: no check on the claim here: even if another worker took over meanwhile, the
  // truth is "sent", and deleting the record stops any further attempt
  await updateDelivery(
    svc.kv,
    rec.ticket_id,
    rec.message,
    () => ({ status: "sent", attempts: rec.attempts, error: null }),
    (op) => op.delete(claim.key),
  );
}

/**
 * Record a failed attempt: schedule the next one (queued, with the error shown), or give up
 * (failed) when `final` or the 24 h window is over. Checked against the claim: a worker that
 * lost its claim changes nothing.
 */
async function finish(
  svc: Services,
  claim: Deno.KvEntryMaybe<OutboxRecord>,
  rec: OutboxRecord,
  outcome: { error: string; final?: boolean },
): Promise<void> {
  const now = Date.now();
  const deadline = Date.parse(rec.queued_at) + GIVE_UP_AFTER_MS;
  const final = outcome.final || now >= deadline;
  const error = final && !outcome.final
    ? `Gave up after ${rec.attempts} attempts over 24 h: ${outcome.error}`
    : outcome.error;
  const next: OutboxRecord = final
    ? { ...rec, state: "failed", lease_until: null, last_error: error }
    : {
      ...rec,
      state: "queued",
      lease_until: null,
      last_error: error,
      next_at: Math.min(now + retryDelayMs(rec.attempts), deadline),
    };
  try {
    await updateDelivery(
      svc.kv,
      rec.ticket_id,
      rec.message,
      () => ({ status: final ? "failed" : "queued", attempts: rec.attempts, error }),
      (op) => {
        op.check(claim as Deno.AtomicCheck).set(claim.key, next);
        if (!final) {
          op.enqueue({ type: OUTBOUND_SEND, id: rec.message }, { delay: next.next_at - now });
        }
      },
    );
  } catch (e) {
    // the claim changed (another worker or a manual retry took over): theirs is the truth
    log.warn("outbox record changed during the attempt", {
      message: rec.message,
      error: (e as Error).message,
    });
  }
}

/** All outbox records (queued, sending and failed). */
export async function listOutbox(kv: Deno.Kv): Promise<OutboxRecord[]> {
  const out: OutboxRecord[] = [];
  for await (const e of kv.list<OutboxRecord>({ prefix: keys.outboxAll() })) out.push(e.value);
  return out;
}

/**
 * Re-enqueue what may have lost its queue message: due `queued` records, and `sending` records
 * (looked at again when their lease ends). Runs at start and every few minutes; duplicates are
 * harmless because the handler claims with a check.
 */
export async function sweepOutbox(svc: Services): Promise<number> {
  const now = Date.now();
  let n = 0;
  for (const r of await listOutbox(svc.kv)) {
    if (r.state === "queued" && r.next_at <= now) {
      await svc.kv.enqueue({ type: OUTBOUND_SEND, id: r.message });
      n++;
    } else if (r.state === "sending") {
      const delay = Math.max(0, (r.lease_until ?? 0) - now);
      await svc.kv.enqueue({ type: OUTBOUND_SEND, id: r.message }, { delay });
      n++;
    }
  }
  return n;
}

/** Send every queued record now (SMTP settings were saved). Returns how many were kicked. */
export async function kickQueued(svc: Services): Promise<number> {
  let n = 0;
  for (const r of await listOutbox(svc.kv)) {
    if (r.state !== "queued") continue;
    await svc.kv.enqueue({ type: OUTBOUND_SEND, id: r.message, kick: true });
    n++;
  }
  return n;
}
