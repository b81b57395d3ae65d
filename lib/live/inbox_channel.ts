/**
 * The Inbox side of the hub: ONE `kv.watch` on `["live","inbox"]` for all sockets of the
 * process. When it fires, new change-feed entries become `ticket` events for every socket, and
 * each connected user's counts are read once (strong) and sent where they changed. All Inbox
 * work runs one step at a time, so counts never arrive out of order.
 */
import { inboxCounts } from "../db/inbox.ts";
import { keys } from "../db/keys.ts";
import { logger } from "../log.ts";
import type { Conn } from "./connection.ts";
import { changesSince, distinctChanges, type InboxChange, InboxFeed } from "./feed.ts";
import { encode } from "./protocol.ts";
import { type KeyWatch, watchKeys } from "./watch.ts";

const log = logger("live");

export class InboxChannel {
  #chain: Promise<void> = Promise.resolve();
  #watch: KeyWatch | null = null;
  #feed: InboxFeed | null = null;

  constructor(
    private kv: Deno.Kv,
    private conns: () => Conn[],
    private send: (c: Conn, frame: string) => void,
  ) {}

  /** Remember the feed's current entries, then watch. */
  async start(lookbackMs: number): Promise<void> {
    this.#feed = new InboxFeed(this.kv, lookbackMs);
    await this.#feed.prime();
    this.#watch = watchKeys(this.kv, [keys.liveInbox()], () => this.#serial(() => this.#changed()));
  }

  async stop(): Promise<void> {
    await this.#watch?.stop();
    this.#watch = null;
    this.#feed = null;
    await this.#chain; // the watch may have queued one last run
  }

  get watching(): boolean {
    return this.#watch !== null;
  }

  /** Send counts to these sockets (`force`: even when unchanged), in order with updates. */
  counts(conns: Conn[], force: boolean): Promise<void> {
    return this.#serial(() => this.#sendCounts(conns, force));
  }

  /** `ticket` frames for feed entries made since `sinceMs` (a client's resync). */
  async replay(sinceMs: number): Promise<string[]> {
    return ticketFrames(distinctChanges(await changesSince(this.kv, sinceMs)));
  }

  #serial(fn: () => Promise<void>): Promise<void> {
    const run = this.#chain.then(fn);
    this.#chain = run.catch((e) => log.error("inbox update failed", { error: e }));
    return this.#chain;
  }

  async #changed() {
    if (!this.#feed) return;
    const frames = ticketFrames(distinctChanges(await this.#feed.poll()));
    const conns = this.conns();
    if (frames.length) { for (const c of conns) for (const f of frames) this.send(c, f); }
    await this.#sendCounts(conns, false);
  }

  /** Read each user's counts once and send them where they differ from the last sent. */
  async #sendCounts(conns: Conn[], force: boolean) {
    const byUser = new Map<string, Conn[]>();
    for (const c of conns) {
      if (!c.open) continue;
      const list = byUser.get(c.user.id) ?? [];
      list.push(c);
      byUser.set(c.user.id, list);
    }
    await Promise.all([...byUser].map(async ([userId, list]) => {
      const counts = await inboxCounts(this.kv, userId);
      const frame = encode({ type: "inbox", unread: counts.unread, total: counts.total });
      for (const c of list) {
        // a socket's first counts are its connect answer (forced); until then updates wait
        if (!force && (c.lastInbox === null || c.lastInbox === frame)) continue;
        c.lastInbox = frame;
        this.send(c, frame);
      }
    }));
  }
}

function ticketFrames(changes: InboxChange[]): string[] {
  return changes.map((c) => encode({ type: "ticket", ticket_id: c.ticket_id, reason: c.reason }));
}
