/**
 * Who has a ticket open: one row per socket (`["presence", ticket, user, conn]`) with an expiry
 * refreshed by its process, and the `["live","presence",ticket]` sentinel bumped when a row comes
 * or goes. A crashed process stops refreshing, so its rows expire; readers also skip rows past
 * their own `expires_at`, because KV deletes expired keys lazily.
 */
import { keys } from "../db/keys.ts";
import type { Viewer } from "./protocol.ts";

interface PresenceRow {
  user_id: string;
  name: string;
  expires_at: number;
}

/** One socket's row on one ticket. */
export interface PresenceSlot {
  ticketId: number;
  userId: string;
  name: string;
  connId: string;
}

/** Mutations per atomic commit when refreshing or removing many rows. */
const ROWS_PER_COMMIT = 50;

const rowKey = (s: PresenceSlot) => keys.presence(s.ticketId, s.userId, s.connId);
const rowOf = (s: PresenceSlot, ttlMs: number): PresenceRow => ({
  user_id: s.userId,
  name: s.name,
  expires_at: Date.now() + ttlMs,
});

/** Add a socket's row and tell watchers. */
export async function enterPresence(kv: Deno.Kv, s: PresenceSlot, ttlMs: number): Promise<void> {
  await kv.atomic()
    .set(rowKey(s), rowOf(s, ttlMs), { expireIn: ttlMs })
    .sum(keys.livePresence(s.ticketId), 1n)
    .commit();
}

/** Remove rows and tell watchers of each ticket once. */
export async function leavePresence(kv: Deno.Kv, slots: PresenceSlot[]): Promise<void> {
  for (let i = 0; i < slots.length; i += ROWS_PER_COMMIT) {
    const part = slots.slice(i, i + ROWS_PER_COMMIT);
    const op = kv.atomic();
    for (const s of part) op.delete(rowKey(s));
    for (const id of new Set(part.map((s) => s.ticketId))) op.sum(keys.livePresence(id), 1n);
    await op.commit();
  }
}

/** Push the expiry of live rows forward; viewers do not change, so no sentinel bump. */
export async function refreshPresence(
  kv: Deno.Kv,
  slots: PresenceSlot[],
  ttlMs: number,
): Promise<void> {
  for (let i = 0; i < slots.length; i += ROWS_PER_COMMIT) {
    const op = kv.atomic();
    for (const s of slots.slice(i, i + ROWS_PER_COMMIT)) {
      op.set(rowKey(s), rowOf(s, ttlMs), { expireIn: ttlMs });
    }
    await op.commit();
  }
}

/** Distinct users with a fresh row on the ticket, by name. */
export async function readViewers(kv: Deno.Kv, ticketId: number): Promise<Viewer[]> {
  const now = Date.now();
  const byUser = new Map<string, Viewer>();
  for await (const e of kv.list<PresenceRow>({ prefix: keys.presences(ticketId) })) {
    const r = e.value;
    if (!r || r.expires_at < now) continue;
    byUser.set(r.user_id, { id: r.user_id, name: r.name });
  }
  return [...byUser.values()].sort((a, b) =>
    a.name.localeCompare(b.name) || (a.id < b.id ? -1 : 1)
  );
}
