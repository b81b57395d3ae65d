/**
 * Opening Deno KV and small helpers every aggregate module shares: wrapping counters,
 * sentinel bumps and a retry loop for optimistic commits.
 */
import { dirname } from "node:path";
import { HttpError } from "../fw/mod.ts";
import { COMMIT_RETRIES } from "./limits.ts";
import { keys } from "./keys.ts";

/**
 * Open the KV store at `path`: a file (its folder is created), `:memory:`, or an https KV Connect URL.
 */
export async function openKv(path: string): Promise<Deno.Kv> {
  if (path !== ":memory:" && !/^https?:\/\//.test(path)) {
    await Deno.mkdir(dirname(path), { recursive: true });
  }
  return await Deno.openKv(path);
}

const U64_WRAP = 1n << 64n;

/** Add `n` (may be negative) to a KvU64 counter inside an atomic operation. */
export function addCount(
  op: Deno.AtomicOperation,
  key: Deno.KvKey,
  n: number,
): Deno.AtomicOperation {
  if (n === 0) return op;
  const v = n > 0 ? BigInt(n) : U64_WRAP + BigInt(n);
  return op.sum(key, v);
}

/** Read a counter written by `addCount` as a number (never below zero). */
export function countValue(entry: Deno.KvEntryMaybe<unknown>): number {
  const v = entry.value;
  if (!(v instanceof Deno.KvU64)) return 0;
  const big = v.value;
  if (big >= 1n << 63n) return 0; // wrapped below zero: a bug elsewhere; never show negatives
  return Number(big);
}

/** Mark the inbox as changed for live watchers (same commit as the change). */
export function bumpInbox(op: Deno.AtomicOperation): Deno.AtomicOperation {
  return op.sum(keys.liveInbox(), 1n);
}

/** Mark a ticket as changed for live watchers (same commit as the change). */
export function bumpTicket(op: Deno.AtomicOperation, ticketId: number): Deno.AtomicOperation {
  return op.sum(keys.liveTicket(ticketId), 1n);
}

/**
 * Run `attempt` until its commit succeeds. `attempt` reads, builds one atomic operation with
 * checks on what it read, commits and returns `{ok: true, value}` or `{ok: false}` when a check
 * failed. After COMMIT_RETRIES failed checks the caller gets 409.
 */
export async function withRetry<T>(
  attempt: () => Promise<{ ok: true; value: T } | { ok: false }>,
): Promise<T> {
  for (let i = 0; i < COMMIT_RETRIES; i++) {
    const r = await attempt();
    if (r.ok) return r.value;
    // a short, growing, jittered pause lets the competing writer finish
    await new Promise((res) => setTimeout(res, Math.random() * (5 + i * 5)));
  }
  throw new HttpError(409, "The record changed while saving; try again", "conflict");
}

/** Commit and turn the result into the shape `withRetry` wants. */
export async function commit<T>(
  op: Deno.AtomicOperation,
  value: T,
): Promise<{ ok: true; value: T } | { ok: false }> {
  const res = await op.commit();
  return res.ok ? { ok: true, value } : { ok: false };
}

/** Read many keys, in batches of the KV limit. */
export async function getMany<T>(kv: Deno.Kv, ks: Deno.KvKey[]): Promise<Deno.KvEntryMaybe<T>[]> {
  const out: Deno.KvEntryMaybe<T>[] = [];
  const batches: Promise<Deno.KvEntryMaybe<T>[]>[] = [];
  for (let i = 0; i < ks.length; i += 10) batches.push(kv.getMany<T[]>(ks.slice(i, i + 10)));
  for (const b of await Promise.all(batches)) out.push(...b);
  return out;
}
