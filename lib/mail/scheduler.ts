/**
 * Poll scheduling: the IMAP subsystem. It installs on `svc.ext`:
 *  - `cronTick()`: called every minute by `Deno.cron` in main.ts; polls when `poll_interval`
 *    has elapsed, and for intervals under a minute schedules the rest of the minute's polls
 *    as delayed queue messages;
 *  - `pollNow()`: "Poll now": waits for a running poll (here or in another process), then
 *    polls, and answers with that poll's result;
 *  - `imapSettingsChanged()`: restarts the IDLE watcher with the new settings;
 *  - a health contributor (last poll, IDLE state).
 * Every poll goes through {@link pollExclusive}: one poll at a time per process (a promise)
 * and across processes (the KV lease in `lease.ts`).
 *
 * @module
 */
import { SUBSYSTEMS } from "../app.ts";
import type { Services } from "../state.ts";
import { keys } from "../db/keys.ts";
import { enqueue, onQueue } from "../queue.ts";
import { logger } from "../log.ts";
import { getImapSettings, getLastPoll, type LastPoll } from "./imap_settings.ts";
import { type PollOptions, type PollResult, runPoll } from "./poll.ts";
import { acquireLease, newHolderId, POLL_LEASE_TTL_MS, releaseLease, renewLease } from "./lease.ts";
import { type IdleWatcher, startIdleWatcher } from "./idle.ts";

const log = logger("imap-scheduler");

/** A poll counts as due this much before its interval is over (cron ticks drift a little). */
export const DUE_SLACK_MS = 2_000;
/** How long "Poll now" waits for a poll elsewhere before giving up. */
export const POLL_WAIT_MS = POLL_LEASE_TTL_MS * 2 + 10_000;
/** Pause between attempts to take a lease held elsewhere. */
const LEASE_RETRY_MS = 200;
/** Queue message type of a delayed poll. */
export const POLL_DUE_MESSAGE = "imap.poll_due";

interface PollerState {
  running: Promise<PollResult> | null;
  pending: boolean;
  retryTimer: ReturnType<typeof setTimeout> | null;
  idle: IdleWatcher | null;
  stopped: boolean;
}

const states = new WeakMap<Services, PollerState>();

function stateOf(svc: Services): PollerState {
  let st = states.get(svc);
  if (!st) {
    st = { running: null, pending: false, retryTimer: null, idle: null, stopped: false };
    states.set(svc, st);
  }
  return st;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Run one poll under the lease. With `wait`, waits for any running poll (here or elsewhere)
 * first; without, returns null when a poll is running. Records the last poll.
 */
export async function pollExclusive(
  svc: Services,
  opts: { wait: boolean; poll?: PollOptions } = { wait: true },
): Promise<PollResult | null> {
  const st = stateOf(svc);
  const holder = newHolderId();
  const deadline = Date.now() + POLL_WAIT_MS;
  for (;;) {
    if (st.running) {
      if (!opts.wait) return null;
      await st.running.catch(() => {});
      continue;
    }
    if (await acquireLease(svc.kv, holder)) break;
    if (!opts.wait) return null;
    if (Date.now() > deadline) {
      return {
        ok: false,
        imported: 0,
        threaded: 0,
        skipped: 0,
        failed: 0,
        error: "Another poll has been running for too long; try again later",
      };
    }
    await sleep(LEASE_RETRY_MS);
  }
  if (st.running) {
    // another local caller started while we took the lease: ours would be redundant to hold
    await releaseLease(svc.kv, holder);
    return opts.wait ? await pollExclusive(svc, opts) : null;
  }
  const run = (async () => {
    const started = Date.now();
    // renew in the background too: one batch may take longer than the lease
    const timer = setInterval(() => {
      renewLease(svc.kv, holder).catch(() => {});
    }, POLL_LEASE_TTL_MS / 3);
    try {
      const result = await runPoll(svc, {
        ...opts.poll,
        heartbeat: () => renewLease(svc.kv, holder),
      });
      const last: LastPoll = {
        at: new Date(started).toISOString(),
        ok: result.ok,
        imported: result.imported,
        threaded: result.threaded,
        skipped: result.skipped,
        failed: result.failed,
        error: result.error ?? null,
        duration_ms: Date.now() - started,
      };
      await svc.kv.set(keys.lastPoll(), last);
      return result;
    } finally {
      clearInterval(timer);
      await releaseLease(svc.kv, holder).catch(() => {});
    }
  })();
  st.running = run;
  try {
    return await run;
  } finally {
    if (st.running === run) st.running = null;
  }
}

/**
 * Ask for a poll without waiting for one that is running: a poll running here reruns once it
 * ends (mail may have arrived after it listed the mailbox); a poll in another process is
 * retried shortly. Polls again at once while the per-poll cap left mail behind.
 */
export function requestPoll(svc: Services, reason: string): Promise<PollResult | null> {
  const st = stateOf(svc);
  if (st.stopped) return Promise.resolve(null);
  if (st.running) {
    st.pending = true;
    return st.running.catch(() => null);
  }
  return (async () => {
    let result: PollResult | null = null;
    for (let round = 0; round < 100 && !st.stopped; round++) {
      st.pending = false;
      result = await pollExclusive(svc, { wait: false });
      if (result === null) {
        // someone else polls right now; make sure mail that triggered us is not left waiting
        scheduleRetry(svc, reason);
        return null;
      }
      log.info("poll", { reason, ...result });
      const progressed = result.imported + result.skipped + result.failed > 0;
      if (!st.pending && !(result.more && progressed && result.ok)) break;
    }
    return result;
  })();
}

function scheduleRetry(svc: Services, reason: string): void {
  const st = stateOf(svc);
  if (st.retryTimer !== null || st.stopped) return;
  st.retryTimer = setTimeout(() => {
    st.retryTimer = null;
    requestPoll(svc, reason).catch(() => {});
  }, 1_000);
}

/** Whether a scheduled poll is due now. */
export function isDue(last: LastPoll | null, intervalS: number, now = Date.now()): boolean {
  if (!last) return true;
  return now - Date.parse(last.at) >= intervalS * 1000 - DUE_SLACK_MS;
}

/**
 * Delays (ms from `now`) of the polls due before the next cron tick, for intervals under a
 * minute: with 30 s, a poll at :00 queues one for :30; with 20 s, two.
 */
export function pollsLaterThisMinute(lastAtMs: number, intervalS: number, now: number): number[] {
  const out: number[] = [];
  for (let k = 1; k * intervalS < 60; k++) {
    out.push(Math.max(0, lastAtMs + k * intervalS * 1000 - now));
  }
  return out;
}

/** The minute's cron tick: poll if due; queue the polls due before the next tick. */
export async function cronTick(svc: Services): Promise<PollResult | null> {
  const s = await getImapSettings(svc);
  if (!s.enabled || !s.host) return null;
  let result: PollResult | null = null;
  if (isDue(await getLastPoll(svc), s.poll_interval)) result = await requestPoll(svc, "cron");
  const last = await getLastPoll(svc);
  if (last) {
    for (const delay of pollsLaterThisMinute(Date.parse(last.at), s.poll_interval, Date.now())) {
      await enqueue(svc, { type: POLL_DUE_MESSAGE, revision: s.revision }, delay);
    }
  }
  return result;
}

/** A delayed poll from the queue: polls only if still due and enabled. */
export async function duePoll(svc: Services): Promise<void> {
  const s = await getImapSettings(svc);
  if (!s.enabled || !s.host) return;
  if (!isDue(await getLastPoll(svc), s.poll_interval)) return;
  await requestPoll(svc, "interval");
}

onQueue(POLL_DUE_MESSAGE, async (svc) => {
  // never throw: a poll error is recorded in the last poll, redelivery would not help
  await duePoll(svc).catch((e) => log.error("delayed poll failed", { error: e }));
});

/** "Poll now": wait for any running poll, then poll, and answer with the result. */
export async function pollNow(svc: Services, poll?: PollOptions): Promise<PollResult> {
  return (await pollExclusive(svc, { wait: true, poll }))!;
}

SUBSYSTEMS.push((svc) => {
  const st = stateOf(svc);
  svc.ext.cronTick = () => cronTick(svc);
  svc.ext.pollNow = (poll?: PollOptions) => pollNow(svc, poll);
  svc.ext.requestPoll = (reason = "manual") => requestPoll(svc, reason);
  svc.ext.imapSettingsChanged = () => st.idle?.restart();
  svc.ext.imapIdleState = () => st.idle?.state() ?? "off";
  (svc.ext.health ??= []).push(async () => ({
    imap: { last_poll: await getLastPoll(svc), idle: st.idle?.state() ?? "off" },
  }));
  return {
    name: "imap",
    start() {
      st.stopped = false;
      st.idle = startIdleWatcher(svc, () => {
        requestPoll(svc, "idle").catch(() => {});
      });
    },
    async stop() {
      st.stopped = true;
      if (st.retryTimer !== null) clearTimeout(st.retryTimer);
      st.retryTimer = null;
      await st.idle?.stop();
      st.idle = null;
      await st.running?.catch(() => {});
    },
  };
});
