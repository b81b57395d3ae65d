/**
 * The WebSocket protocol of `GET /api/v1/ws`: the events the server sends and the parsing of what
 * clients send. Pure, so it is tested on its own; docs/live-updates.md describes it for people.
 */
import type { Ticket } from "../db/tickets.ts";
import type { Message } from "../db/messages.ts";
import { MAX_CLIENT_MESSAGE_BYTES } from "./constants.ts";

export type TicketReason = "created" | "message" | "updated";

export interface Viewer {
  id: string;
  name: string;
}

/** Everything the server sends. */
export type ServerEvent =
  | { type: "inbox"; unread: number; total: number }
  | { type: "ticket"; ticket_id: number; reason: TicketReason }
  | { type: "message"; ticket_id: number; message: Message }
  | { type: "ticket_update"; ticket_id: number; ticket: Ticket }
  | { type: "presence"; ticket_id: number; viewers: Viewer[] }
  | { type: "ping" }
  | { type: "error"; error: string; code: string };

/** Everything a client may send. */
export type ClientMessage =
  | { type: "subscribe"; ticket_id: number }
  | { type: "unsubscribe"; ticket_id: number }
  | { type: "resync"; since: Record<string, unknown> | null }
  | { type: "pong" };

export type ParseResult =
  | { ok: true; msg: ClientMessage }
  | { ok: false; code: string; error: string };

const bad = (code: string, error: string): ParseResult => ({ ok: false, code, error });

/** Parse one client frame. Never throws: a bad frame gets an `error` event, not a close. */
export function parseClientMessage(data: unknown): ParseResult {
  if (typeof data !== "string") return bad("unsupported_frame", "Send JSON text frames");
  if (data.length > MAX_CLIENT_MESSAGE_BYTES) {
    return bad("too_large", `Messages are limited to ${MAX_CLIENT_MESSAGE_BYTES} bytes`);
  }
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch {
    return bad("invalid_json", "The message is not valid JSON");
  }
  if (!v || typeof v !== "object" || Array.isArray(v)) {
    return bad("invalid_message", "The message must be a JSON object with a type");
  }
  const m = v as Record<string, unknown>;
  switch (m.type) {
    case "subscribe":
    case "unsubscribe": {
      const id = m.ticket_id;
      if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 1) {
        return bad("invalid_ticket_id", "ticket_id: must be a positive integer");
      }
      return { ok: true, msg: { type: m.type, ticket_id: id } };
    }
    case "resync": {
      const s = m.since;
      if (s !== undefined && s !== null && (typeof s !== "object" || Array.isArray(s))) {
        return bad("invalid_message", "since: must be an object");
      }
      return { ok: true, msg: { type: "resync", since: (s as Record<string, unknown>) ?? null } };
    }
    case "pong":
      return { ok: true, msg: { type: "pong" } };
    default:
      return bad(
        "unknown_type",
        typeof m.type === "string"
          ? `Unknown message type "${m.type.slice(0, 40)}"`
          : "The message has no type",
      );
  }
}

/** `since.at` of a resync as epoch ms (a number or an ISO string), or null. */
export function resyncSince(since: Record<string, unknown> | null): number | null {
  const at = since?.at;
  if (typeof at === "number" && Number.isFinite(at)) return at;
  if (typeof at === "string") {
    const t = Date.parse(at);
    return Number.isNaN(t) ? null : t;
  }
  return null;
}

/** Serialize an event once; the same string goes to every socket that gets it. */
export function encode(ev: ServerEvent): string {
  return JSON.stringify(ev);
}

export const PING_FRAME = encode({ type: "ping" });
