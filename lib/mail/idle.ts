/**
 * The IDLE watcher: one connection per process that sits in IMAP IDLE on the mailbox and asks
 * for a poll when the server announces new mail (EXISTS), so mail lands in about a second.
 * It reconnects with backoff when the connection drops, restarts when the settings change,
 * and stays off while `enabled` or `idle` is false or the server has no IDLE. Cron remains
 * the safety net either way.
 *
 * @module
 */
import type { ImapFlow } from "imapflow";
import type { Services } from "../state.ts";
import { logger } from "../log.ts";
import { getImapSettings } from "./imap_settings.ts";
import { closeImap, type ImapClientExtras, openImap } from "./imap_connect.ts";

const log = logger("imap-idle");

/** Re-issue IDLE this often (servers drop IDLE after ~30 min; NAT boxes sooner). */
export const IDLE_REFRESH_MS = 4 * 60_000;
/** First and largest pause before reconnecting after a failure. */
export const IDLE_BACKOFF_MIN_MS = 1_000;
export const IDLE_BACKOFF_MAX_MS = 60_000;

export type IdleState = "off" | "connecting" | "idling" | "unsupported" | "backoff" | "stopped";

export interface IdleWatcher {
  /** Current state, for health and tests. */
  state(): IdleState;
  /** Settings changed: drop the connection and start over with the new ones. */
  restart(): void;
  /** Stop for good and close the connection. */
  stop(): Promise<void>;
}

export interface IdleOptions {
  extras?: ImapClientExtras;
  backoffMinMs?: number;
  backoffMaxMs?: number;
}

/** Start watching; `onMail` is called on new mail and after every (re)connect. */
export function startIdleWatcher(
  svc: Services,
  onMail: () => void,
  opts: IdleOptions = {},
): IdleWatcher {
  let state: IdleState = "off";
  let stopped = false;
  let client: ImapFlow | null = null;
  let wake: (() => void) | null = null;
  let backoff = opts.backoffMinMs ?? IDLE_BACKOFF_MIN_MS;
  let restarting = false;
  const maxBackoff = opts.backoffMaxMs ?? IDLE_BACKOFF_MAX_MS;

  /** Sleep until `ms` passed, or restart()/stop() is called (ms < 0: until then only). */
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      // a restart()/stop() that came while we were busy must not be missed
      if (stopped || restarting) return resolve();
      const t = ms >= 0 ? setTimeout(() => done(), ms) : null;
      const done = () => {
        if (t !== null) clearTimeout(t);
        wake = null;
        resolve();
      };
      wake = done;
    });

  const session = async (): Promise<void> => {
    restarting = false;
    const s = await getImapSettings(svc);
    if (stopped || restarting) return;
    if (!s.enabled || !s.idle || !s.host) {
      state = "off";
      await pause(-1);
      return;
    }
    state = "connecting";
    let c: ImapFlow | null = null;
    try {
      c = await openImap(svc, s, { maxIdleTime: IDLE_REFRESH_MS, ...opts.extras });
      client = c;
      if (stopped || restarting) return;
      if (!c.capabilities.has("IDLE")) {
        state = "unsupported";
        log.info("server has no IDLE; polling on schedule only", { host: s.host });
        await closeImap(c);
        await pause(-1);
        return;
      }
      // read-only: watching must not change \Recent or any flag
      await c.mailboxOpen(s.mailbox, { readOnly: true });
      c.on("exists", (ev: { count: number; prevCount: number }) => {
        if (ev.count > ev.prevCount) onMail();
      });
      state = "idling";
      backoff = opts.backoffMinMs ?? IDLE_BACKOFF_MIN_MS;
      onMail(); // mail that came while we were not watching
      while (!stopped && !restarting && c.usable) {
        await c.idle();
      }
      if (!stopped && !restarting) throw new Error("IDLE connection closed");
    } catch (e) {
      if (stopped || restarting) return;
      state = "backoff";
      log.warn("IDLE connection failed; retrying", {
        error: (e as Error)?.message ?? String(e),
        retry_ms: backoff,
      });
      await closeImap(c);
      await pause(backoff);
      backoff = Math.min(backoff * 2, maxBackoff);
    } finally {
      if (client === c) client = null;
      await closeImap(c);
    }
  };

  const loop = (async () => {
    while (!stopped) await session();
    state = "stopped";
  })();

  return {
    state: () => state,
    restart() {
      restarting = true;
      backoff = opts.backoffMinMs ?? IDLE_BACKOFF_MIN_MS;
      // closing the connection ends idle(); a pause ends through wake
      const c = client;
      client = null;
      if (c) c.close();
      wake?.();
    },
    async stop() {
      stopped = true;
      const c = client;
      client = null;
      if (c) c.close();
      wake?.();
      await loop;
    },
  };
}
