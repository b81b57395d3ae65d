/** Deno KV limits and our own bounds, named in one place. */

/** Largest value Deno KV stores (64 KiB); we stay a little under it. */
export const KV_MAX_VALUE_BYTES = 65_536;
/** Size of one blob chunk. */
export const BLOB_CHUNK_BYTES = 60_000;
/** Chunks written per atomic commit (an atomic operation carries at most ~800 KiB). */
export const BLOB_CHUNKS_PER_COMMIT = 10;
/** Keys per `kv.getMany` call. */
export const KV_GET_MANY_MAX = 10;
/** Keys one `kv.watch` takes. */
export const KV_WATCH_MAX = 10;
/** Message bodies up to this size are kept inline in the message value. */
export const INLINE_BODY_BYTES = 24_000;
/** Retries of an atomic commit whose check failed before giving up with 409. */
export const COMMIT_RETRIES = 20;
/** Inbox page size bounds (API.md). */
export const INBOX_LIMIT_DEFAULT = 50;
export const INBOX_LIMIT_MAX = 200;
/** Session lifetime. */
export const SESSION_TTL_MS = 14 * 24 * 3600 * 1000;
/** Login throttling: failures allowed per window, per account and per address. */
export const LOGIN_MAX_FAILURES_ACCOUNT = 5;
export const LOGIN_MAX_FAILURES_ADDRESS = 20;
export const LOGIN_WINDOW_MS = 15 * 60 * 1000;
/** How long an Inbox change-feed entry is kept for live sockets (lib/live reads it). */
export const LIVE_FEED_TTL_MS = 10 * 60 * 1000;
