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
  }
  return false;
}

/** Extend our lease; false when it is no longer ours (it expired and someone took it). */
export async function renewLease(
  kv: Deno.Kv,
  holder: string,
  ttlMs = POLL_LEASE_TTL_MS,
): Promise<boolean> {
  const cur = await kv.get<LeaseRecord>(keys.pollLease());
  if (!cur.value || cur.value.holder !== holder) return false;
  const rec = { ...cur.value, expires_at: Date.now() + ttlMs };
  const res = await kv.atomic().check(cur).set(keys.pollLease(), rec, { expireIn: ttlMs * 2 })
    .commit();
  return res.ok;
}

/** Give the lease back (only if it is still ours). */
export async function releaseLease(kv: Deno.Kv, holder: string): Promise<void> {
  const cur = await kv.get<LeaseRecord>(keys.pollLease());
  if (!cur.value || cur.value.holder !== holder) return;
  await kv.atomic().check(cur).delete(keys.pollLease()).commit();
}

/** The current holder, if the lease is live. */
export async function leaseHolder(kv: Deno.Kv, now = Date.now()): Promise<LeaseRecord | null> {
  const v = (await kv.get<LeaseRecord>(keys.pollLease())).value;
  return v && v.expires_at > now ? v : null;
}
