/**
 * Timings and bounds of the live hub, named in one place. `LiveOptions` lets tests and benches
 * shorten the timings without touching these defaults.
 */
import { KV_WATCH_MAX } from "../db/limits.ts";

/** Application-level heartbeat: `{"type":"ping"}` this often, so idle proxies keep the socket. */
export const PING_INTERVAL_MS = 25_000;
/**
 * Deno's own WebSocket ping/pong (protocol frames, answered by every browser): a socket that
 * stays silent this long after a ping is closed, so half-open connections do not linger.
 */
export const WS_IDLE_TIMEOUT_S = 60;
/** A presence row lives this long unless refreshed (a crashed process's viewers vanish). */
export const PRESENCE_TTL_MS = 30_000;
/** Own presence rows are refreshed, and every watched ticket's viewers re-read, this often. */
export const PRESENCE_REFRESH_MS = 10_000;
/** How far back the Inbox change feed is re-read (ULID keys are made before the commit). */
export const FEED_LOOKBACK_MS = 15_000;
/** A `resync` replays feed entries from this much before the client's `since.at`. */
export const RESYNC_SLACK_MS = 60_000;
/** Sessions and helpdesk access of open sockets are checked again this often. */
export const SESSION_RECHECK_MS = 60_000;
/** Subscriptions one socket may hold. */
export const MAX_SUBSCRIPTIONS = 100;
/** Largest client message accepted (bytes of text). */
export const MAX_CLIENT_MESSAGE_BYTES = 4096;
/** A socket whose unsent backlog exceeds this is closed (the client reconnects and re-fetches). */
export const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** Each watched ticket takes two keys (ticket and presence sentinels) of one `kv.watch`. */
export const TICKETS_PER_WATCH = Math.floor(KV_WATCH_MAX / 2);
/** Extra messages listed past the count difference when looking for new ones. */
export const MESSAGE_SCAN_SLACK = 20;

/** Close codes the browser can act on. */
export const CLOSE_SESSION_ENDED = 4401;
export const CLOSE_FORBIDDEN = 4403;
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_TOO_SLOW = 1013;

export interface LiveOptions {
  pingIntervalMs: number;
  presenceTtlMs: number;
  presenceRefreshMs: number;
  feedLookbackMs: number;
  sessionRecheckMs: number;
  maxSubscriptions: number;
}

export const DEFAULT_LIVE_OPTIONS: LiveOptions = {
  pingIntervalMs: PING_INTERVAL_MS,
  presenceTtlMs: PRESENCE_TTL_MS,
  presenceRefreshMs: PRESENCE_REFRESH_MS,
  feedLookbackMs: FEED_LOOKBACK_MS,
  sessionRecheckMs: SESSION_RECHECK_MS,
  maxSubscriptions: MAX_SUBSCRIPTIONS,
};
