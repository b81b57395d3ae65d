/**
 * Auto-reply and bounce detection. Such mail is stored on a matching ticket with `auto: true`
 * but never opens or reopens a ticket, and is skipped when it matches none.
 *
 * Rules, first match wins:
 *  1. `Content-Type: multipart/report` with `report-type=delivery-status` (or no report-type)
 *     → bounce (RFC 3464 DSN).
 *  2. From local part `mailer-daemon` or `postmaster` → bounce.
 *  3. `Auto-Submitted` present with a value other than `no` → auto-reply (RFC 3834).
 *  4. `X-Autoreply`, `X-Autorespond`, `X-Autoresponse` present (any value) → auto-reply.
 *  5. `Precedence: bulk | junk | auto_reply` → auto-reply (`list` is a mailing list, not auto).
 *  6. Any other `multipart/report` (read receipts: disposition-notification) → auto-reply.
 *  7. Empty Return-Path (`<>`, given here as "") → bounce: only bounces and auto-responders use
 *     the null sender, and the auto-responders that say so are caught by rules 3-5 first.
 *
 * @module
 */
import type { Address } from "./parse.ts";

/** What kind of machine-sent mail a message is, or null for a human message. */
export type AutoKind = "auto-reply" | "bounce" | null;

const BOUNCE_LOCAL_PARTS = new Set(["mailer-daemon", "postmaster"]);
const AUTO_HEADERS = new Set(["x-autoreply", "x-autorespond", "x-autoresponse"]);
const AUTO_PRECEDENCE = new Set(["bulk", "junk", "auto_reply"]);

function first(headers: { key: string; value: string }[], key: string): string | null {
  for (const h of headers) if (h.key.toLowerCase() === key) return h.value;
  return null;
}

/** Lowercased MIME type and lowercased `report-type` parameter of a Content-Type value. */
function reportType(contentType: string | null): { type: string; reportType: string | null } {
  if (!contentType) return { type: "", reportType: null };
  const type = contentType.split(";")[0].trim().toLowerCase();
  const m = /;\s*report-type\s*=\s*"?([^";\s]+)"?/i.exec(contentType);
  return { type, reportType: m ? m[1].toLowerCase() : null };
}

/**
 * Classify a message as `"auto-reply"`, `"bounce"` or null (see the module doc for the
 * ordered rules). `headers` are the message's top-level headers (keys compared
 * case-insensitively), `contentType` its top-level Content-Type value, `returnPath` the
 * Return-Path address with "" meaning the null sender `<>`.
 */
export function classify(
  headers: { key: string; value: string }[],
  contentType: string | null,
  from: Address | null,
  returnPath: string | null,
): AutoKind {
  const ct = reportType(contentType ?? first(headers, "content-type"));
  const isReport = ct.type === "multipart/report";
  if (isReport && (ct.reportType === null || ct.reportType === "delivery-status")) {
    return "bounce";
  }

  const local = from?.email ? from.email.split("@")[0].trim().toLowerCase() : "";
  if (BOUNCE_LOCAL_PARTS.has(local)) return "bounce";

  const autoSubmitted = first(headers, "auto-submitted");
  if (autoSubmitted !== null) {
    // The value may carry parameters or comments: "auto-replied; owner-email=..." or "no (x)".
    const token = autoSubmitted.trim().split(/[\s;(]/)[0].toLowerCase();
    if (token !== "no" && token !== "") return "auto-reply";
  }

  for (const h of headers) if (AUTO_HEADERS.has(h.key.toLowerCase())) return "auto-reply";

  const precedence = first(headers, "precedence");
  if (precedence !== null && AUTO_PRECEDENCE.has(precedence.trim().toLowerCase())) {
    return "auto-reply";
  }

  if (isReport) return "auto-reply";

  if (returnPath !== null && returnPath.trim() === "") return "bounce";
  return null;
}
