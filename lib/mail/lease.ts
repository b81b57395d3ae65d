/**
 * The poll lease: one poll at a time across every process sharing the KV store. Taking it is
 * a versionstamp-checked write; it carries an expiry, so a holder that died (crash, kill -9)
 * blocks others for at most {@link POLL_LEASE_TTL_MS}. The holder renews it while it works.
 *
 * @module
 */
import { keys } from "../db/keys.ts";

/** How long a lease lasts without renewal. */
export const POLL_LEASE_TTL_MS = 60_000;

export interface LeaseRecord {
  holder: string;
  expires_at: number;
  acquired_at: number;
}

/**
 * Whether a KV error is passing (SQLite busy while another process on the same file
 * commits): worth another attempt, not a verdict.
 */
export function isTransientKvError(e: unknown): boolean {
  return /database is locked|database is busy|SQLITE_BUSY/i.test(
    String((e as Error)?.message ?? e),
  );
}

/** A holder id unique to this process and caller. */
export function newHolderId(): string {
  return `${Deno.pid}-${crypto.randomUUID()}`;
}

/**
 * Take the lease when it is free, expired, or already ours. Returns false when another live
 * holder has it.
 */
export async function acquireLease(
  kv: Deno.Kv,
  holder: string,
  ttlMs = POLL_LEASE_TTL_MS,
  now = Date.now(),
): Promise<boolean> {
  for (let i = 0; i < 5; i++) {
    try {
      const cur = await kv.get<LeaseRecord>(keys.pollLease());
      const v = cur.value;
      if (v && v.holder !== holder && v.expires_at > now) return false;
      const rec: LeaseRecord = {
        holder,
        expires_at: now + ttlMs,
        acquired_at: v?.holder === holder ? v.acquired_at : now,
      };
      // expireIn lets KV clean up a dead holder's record; expires_at is what we trust
      const res = await kv.atomic().check(cur).set(keys.pollLease(), rec, {
        expireIn: ttlMs * 2,
      }).commit();
      if (res.ok) return true;
    } catch (e) {
      if (!isTransientKvError(e)) throw e;
    }
    await new Promise((r) => setTimeout(r, 10 + Math.random() * 20));
  }
  return false;
}

/**
 * Extend our lease; false when it is no longer ours (it expired and someone took it). A
 * passing KV error counts as renewed: the lease has time left, the next renewal retries.
 */
export async function renewLease(
  kv: Deno.Kv,
  holder: string,
  ttlMs = POLL_LEASE_TTL_MS,
): Promise<boolean> {
  try {
    const cur = await kv.get<LeaseRecord>(keys.pollLease());
    if (!cur.value || cur.value.holder !== holder) return false;
    const rec = { ...cur.value, expires_at: Date.now() + ttlMs };
    const res = await kv.atomic().check(cur).set(keys.pollLease(), rec, { expireIn: ttlMs * 2 })
      .commit();
    return res.ok;
  } catch (e) {
    if (isTransientKvError(e)) return true;
    throw e;
  }
}

/** Give the lease back (only if it is still ours). */
export async function releaseLease(kv: Deno.Kv, holder: string): Promise<void> {
  for (let i = 0; i < 5; i++) {
    try {
      const cur = await kv.get<LeaseRecord>(keys.pollLease());
      if (!cur.value || cur.value.holder !== holder) return;
      if ((await kv.atomic().check(cur).delete(keys.pollLease()).commit()).ok) return;
    } catch (e) {
      if (!isTransientKvError(e)) throw e;
    }
    await new Promise((r) => setTimeout(r, 10 + Math.random() * 20));
  }
  // left to expire
}

/** The current holder, if the lease is live. */
export async function leaseHolder(kv: Deno.Kv, now = Date.now()): Promise<LeaseRecord | null> {
  const v = (await kv.get<LeaseRecord>(keys.pollLease())).value;
  return v && v.expires_at > now ? v : null;
}
