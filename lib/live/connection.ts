/**
 * One hub socket: its user and session, subscriptions, what it was last sent (so repeats are
 * skipped), a per-socket order for client messages, a small rate limit, and the periodic check
 * that its session and helpdesk access still hold.
 */
import { getUser, hasHelpdesk, type PublicUser } from "../db/users.ts";
import { getSession } from "../auth/sessions.ts";
import { CLOSE_FORBIDDEN, CLOSE_SESSION_ENDED } from "./constants.ts";
import type { PresenceSlot } from "./presence.ts";

/** Client messages allowed per socket in RATE_WINDOW_MS; more get a `rate_limited` error. */
const RATE_MAX = 60;
const RATE_WINDOW_MS = 10_000;

export interface Conn {
  id: string;
  socket: WebSocket;
  user: PublicUser;
  token: string | null;
  subs: Map<number, PresenceSlot>;
  /** The last `inbox` frame sent. */
  lastInbox: string | null;
  /** Per subscribed ticket, the last viewers list sent (set by the subscription's answer). */
  lastPresence: Map<number, string>;
  open: boolean;
  released: boolean;
  /** Client messages of one socket are handled in order. */
  chain: Promise<void>;
  rate: { start: number; count: number };
}

export function newConn(socket: WebSocket, user: PublicUser, token: string | null): Conn {
  return {
    id: crypto.randomUUID(),
    socket,
    user,
    token,
    subs: new Map(),
    lastInbox: null,
    lastPresence: new Map(),
    open: false,
    released: false,
    chain: Promise.resolve(),
    rate: { start: Date.now(), count: 0 },
  };
}

/** Count a client message: "ok", "limited" (tell the client once), or "drop". */
export function rateCheck(conn: Conn, now = Date.now()): "ok" | "limited" | "drop" {
  if (now - conn.rate.start > RATE_WINDOW_MS) conn.rate = { start: now, count: 0 };
  conn.rate.count++;
  if (conn.rate.count <= RATE_MAX) return "ok";
  return conn.rate.count === RATE_MAX + 1 ? "limited" : "drop";
}

/** Close code for a socket whose session ended or whose user lost helpdesk access, else null. */
export async function sessionVerdict(kv: Deno.Kv, conn: Conn): Promise<number | null> {
  if (!conn.token) return null;
  const s = await getSession(kv, conn.token);
  const u = s ? await getUser(kv, s.user_id) : null;
  if (!s || !u || u.id !== conn.user.id) return CLOSE_SESSION_ENDED;
  return hasHelpdesk(u) ? null : CLOSE_FORBIDDEN;
}
