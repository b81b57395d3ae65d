/**
 * The browser side of live updates: one WebSocket per page to `/api/v1/ws`, shared by every
 * island on it (islands import this module; esbuild's code splitting keeps it one instance).
 *
 * - reconnects with exponential backoff and jitter, and at once when the browser comes back
 *   online or the tab becomes visible again;
 * - `status` is a signal: `online`, `connecting` or `offline` (waiting to retry);
 * - `onConnect` callbacks run after every (re)connect so islands can resync through the API:
 *   events sent while the socket was down are never replayed, so re-fetching is how nothing
 *   is missed;
 * - ticket subscriptions are reference-counted and re-sent after every reconnect;
 * - answers the server's `{"type":"ping"}` with `{"type":"pong"}` and closes a socket that has
 *   gone silent for much longer than the server's ping rhythm (half-open connections);
 * - a close with code 4401 (session ended) is passed on as a `session_ended` event; the page's
 *   shared client then goes to the sign-in page.
 *
 * Browser-safe: imports nothing but @preact/signals. `createLiveClient` takes its WebSocket
 * constructor and timers as options so it can be tested without a browser.
 * @module
 */
import { type Signal, signal } from "@preact/signals";

/** Connection state shown in the sidebar. */
export type LiveStatus = "online" | "connecting" | "offline";

/** A server event: `inbox`, `ticket`, `message`, `ticket_update`, `presence`, `ping`, `error`. */
export interface LiveEvent {
  type: string;
  [key: string]: unknown;
}

/** The minimal WebSocket surface the client uses. */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** Options of `createLiveClient`; all have browser defaults. */
export interface LiveClientOptions {
  /** Socket URL; default `ws(s)://<host>/api/v1/ws`. */
  url?: string;
  /** Socket factory; default `new WebSocket(url)`. */
  connect?: (url: string) => SocketLike;
  /** First retry delay (ms) before jitter; doubles per failed attempt. Default 500. */
  baseDelayMs?: number;
  /** Largest retry delay (ms). Default 30000. */
  maxDelayMs?: number;
  /** Random source for jitter (tests pin it). */
  random?: () => number;
  /** Clock (ms). */
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => number;
  clearTimer?: (id: number) => void;
}

/** What islands use. */
export interface LiveClient {
  /** `online` | `connecting` | `offline`. */
  readonly status: Signal<LiveStatus>;
  /** When offline: the time (ms) of the next attempt, else null. */
  readonly retryAt: Signal<number | null>;
  /** Listen to one event type (`"*"` for all). Returns the unsubscribe function. */
  on(type: string, fn: (ev: LiveEvent) => void): () => void;
  /** Run `fn` after every successful (re)connect, for resync. Returns the remover. */
  onConnect(fn: () => void): () => void;
  /** Receive `message`/`ticket_update`/`presence` for a ticket while it is open. */
  subscribe(ticketId: number): () => void;
  /** Open the socket (idempotent). */
  start(): void;
  /** Close for good (tests, page teardown). */
  stop(): void;
  /** Skip the backoff wait and try now. */
  reconnectNow(): void;
}

/** Close code the server uses when the socket's session ended (signed out or expired). */
export const CLOSE_SESSION_ENDED = 4401;

const OPEN = 1;

/**
 * Retry delay for the n-th failed attempt (0-based): exponential with "equal jitter", i.e.
 * uniformly between half and all of `min(max, base * 2^n)`, so a restarted server is not hit by
 * every browser at the same instant but nobody waits much longer than the schedule says.
 */
export function backoffDelay(
  attempt: number,
  baseMs = 500,
  maxMs = 30_000,
  random: () => number = Math.random,
): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(cap / 2 + random() * (cap / 2));
}

function defaultUrl(): string {
  const l = globalThis.location;
  return `${l.protocol === "https:" ? "wss" : "ws"}://${l.host}/api/v1/ws`;
}

/** A live client; pages use the shared `live()` instead. */
export function createLiveClient(opts: LiveClientOptions = {}): LiveClient {
  const now = opts.now ?? (() => Date.now());
  const setTimer = opts.setTimer ?? ((fn, ms) => setTimeout(fn, ms) as unknown as number);
  const clearTimer = opts.clearTimer ?? ((id) => clearTimeout(id));
  const connect = opts.connect ?? ((url) => new WebSocket(url) as unknown as SocketLike);
  const base = opts.baseDelayMs ?? 500;
  const max = opts.maxDelayMs ?? 30_000;
  const random = opts.random ?? Math.random;

  const status = signal<LiveStatus>("connecting");
  const retryAt = signal<number | null>(null);
  const listeners = new Map<string, Set<(ev: LiveEvent) => void>>();
  const connectListeners = new Set<() => void>();
  const subs = new Map<number, number>();
  let ws: SocketLike | null = null;
  let attempt = 0;
  let retryTimer: number | null = null;
  let watchdog: number | null = null;
  let started = false;
  let stopped = false;
  let lastSeen = 0;
  let lastPing = 0;
  let pingGap = 0;

  const send = (msg: unknown) => {
    if (ws?.readyState !== OPEN) return false;
    try {
      ws.send(JSON.stringify(msg));
      return true;
    } catch {
      return false;
    }
  };

  const dispatch = (ev: LiveEvent) => {
    for (const key of [ev.type, "*"]) {
      for (const fn of listeners.get(key) ?? []) {
        try {
          fn(ev);
        } catch (err) {
          console.error("[live] listener failed", err);
        }
      }
    }
  };

  const clearRetry = () => {
    if (retryTimer !== null) clearTimer(retryTimer);
    retryTimer = null;
    retryAt.value = null;
  };

  const checkAlive = () => {
    watchdog = null;
    if (stopped || !ws) return;
    // Only once the server's ping rhythm is known: a silent socket is probably half-open
    if (pingGap > 0 && ws.readyState === OPEN) {
      const limit = Math.max(45_000, pingGap * 2.5);
      if (now() - lastSeen > limit) {
        try {
          ws.close(4000, "heartbeat timeout");
        } catch { /* closing anyway */ }
        drop(ws);
        return;
      }
    }
    watchdog = setTimer(checkAlive, 10_000);
  };

  const scheduleRetry = () => {
    if (stopped || retryTimer !== null) return;
    const delay = backoffDelay(attempt++, base, max, random);
    status.value = "offline";
    retryAt.value = now() + delay;
    retryTimer = setTimer(() => {
      retryTimer = null;
      retryAt.value = null;
      open();
    }, delay);
  };

  /** Forget a socket that closed (or that we gave up on) and plan the next attempt. */
  const drop = (sock: SocketLike) => {
    if (ws !== sock) return;
    ws = null;
    sock.onopen =
      sock.onclose =
      sock.onerror =
      sock.onmessage =
        null;
    if (watchdog !== null) clearTimer(watchdog);
    watchdog = null;
    scheduleRetry();
  };

  const open = () => {
    if (stopped || ws) return;
    status.value = "connecting";
    let sock: SocketLike;
    try {
      sock = connect(opts.url ?? defaultUrl());
    } catch {
      scheduleRetry();
      return;
    }
    ws = sock;
    sock.onopen = () => {
      if (ws !== sock) return;
      attempt = 0;
      lastSeen = now();
      pingGap = 0;
      lastPing = 0;
      status.value = "online";
      for (const id of subs.keys()) send({ type: "subscribe", ticket_id: id });
      for (const fn of [...connectListeners]) {
        try {
          fn();
        } catch (err) {
          console.error("[live] resync failed", err);
        }
      }
      if (watchdog === null) watchdog = setTimer(checkAlive, 10_000);
    };
    sock.onmessage = (e) => {
      if (ws !== sock) return;
      lastSeen = now();
      let ev: LiveEvent;
      try {
        ev = JSON.parse(String(e.data));
      } catch {
        return;
      }
      if (!ev || typeof ev.type !== "string") return;
      if (ev.type === "ping") {
        if (lastPing) pingGap = lastSeen - lastPing;
        lastPing = lastSeen;
        send({ type: "pong" });
      }
      dispatch(ev);
    };
    sock.onerror = () => {/* a close event follows */};
    sock.onclose = (ev) => {
      const code = (ev as { code?: number } | null)?.code;
      if (ws === sock && code === CLOSE_SESSION_ENDED) {
        // Retrying cannot help; let the page decide (the browser client signs in again)
        dispatch({ type: "session_ended" });
      }
      drop(sock);
    };
  };

  const client: LiveClient = {
    status,
    retryAt,
    on(type, fn) {
      let set = listeners.get(type);
      if (!set) listeners.set(type, set = new Set());
      set.add(fn);
      return () => set.delete(fn);
    },
    onConnect(fn) {
      connectListeners.add(fn);
      return () => connectListeners.delete(fn);
    },
    subscribe(ticketId) {
      const n = subs.get(ticketId) ?? 0;
      subs.set(ticketId, n + 1);
      if (n === 0) send({ type: "subscribe", ticket_id: ticketId });
      let done = false;
      return () => {
        if (done) return;
        done = true;
        const left = (subs.get(ticketId) ?? 1) - 1;
        if (left > 0) subs.set(ticketId, left);
        else {
          subs.delete(ticketId);
          send({ type: "unsubscribe", ticket_id: ticketId });
        }
      };
    },
    start() {
      if (started || stopped) return;
      started = true;
      open();
    },
    stop() {
      stopped = true;
      clearRetry();
      if (watchdog !== null) clearTimer(watchdog);
      watchdog = null;
      const sock = ws;
      ws = null;
      if (sock) {
        sock.onopen =
          sock.onclose =
          sock.onerror =
          sock.onmessage =
            null;
        try {
          sock.close(1000, "bye");
        } catch { /* already closed */ }
      }
      status.value = "offline";
    },
    reconnectNow() {
      if (stopped || !started || ws) return;
      clearRetry();
      open();
    },
  };
  return client;
}

let shared: LiveClient | null = null;

/** The page's one live client, started on first use (browser only). */
export function live(): LiveClient {
  if (!shared) {
    shared = createLiveClient();
    const g = globalThis as unknown as {
      addEventListener?: (t: string, f: () => void) => void;
      document?: Document;
    };
    const client = shared;
    client.on("session_ended", () => {
      const l = globalThis.location;
      l.assign(`/login?next=${encodeURIComponent(l.pathname + l.search)}`);
    });
    g.addEventListener?.("online", () => client.reconnectNow());
    g.document?.addEventListener("visibilitychange", () => {
      if (g.document?.visibilityState === "visible") client.reconnectNow();
    });
  }
  shared.start();
  return shared;
}
