/**
 * Per-ticket watches, packed into groups because one `kv.watch` takes at most 10 keys: each
 * ticket brings two keys (its ticket and presence sentinels), so a group holds
 * TICKETS_PER_WATCH tickets. When a group's tickets change, its watch is re-created; a new watch
 * reports the current versionstamps first, and any key whose versionstamp differs from the last
 * one seen counts as changed, so nothing committed during the swap is lost.
 */
import { keys } from "../db/keys.ts";
import { type KeyWatch, watchKeys } from "./watch.ts";
import { TICKETS_PER_WATCH } from "./constants.ts";

export interface ChangedParts {
  ticket: boolean;
  presence: boolean;
}

export type OnTicketChange = (ticketId: number, parts: ChangedParts) => Promise<void>;

class Group {
  ids = new Set<number>();
  watch: KeyWatch | null = null;
  chain: Promise<void> = Promise.resolve();
  scheduled = false;
  /** Waiters of tickets added since the last watch started, resolved after its first emission. */
  waiters = new Map<number, (() => void)[]>();
}

export class WatchGroups {
  #groups: Group[] = [];
  #groupOf = new Map<number, Group>();
  #stamps = new Map<string, string | null>();
  #stopped = false;

  constructor(
    private kv: Deno.Kv,
    private onChange: OnTicketChange,
    private perGroup = TICKETS_PER_WATCH,
  ) {}

  /** Start watching a ticket; resolves once a watch covering it has reported and been handled. */
  add(id: number): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    let g = this.#groupOf.get(id);
    if (!g) {
      g = this.#groups.find((x) => x.ids.size < this.perGroup);
      if (!g) this.#groups.push(g = new Group());
      g.ids.add(id);
      this.#groupOf.set(id, g);
    }
    const group = g;
    const p = new Promise<void>((resolve) => {
      const list = group.waiters.get(id) ?? [];
      list.push(resolve);
      group.waiters.set(id, list);
    });
    this.#rebuild(group);
    return p;
  }

  /** Stop watching a ticket. */
  remove(id: number): void {
    const g = this.#groupOf.get(id);
    if (!g) return;
    g.ids.delete(id);
    this.#groupOf.delete(id);
    this.#stamps.delete(`${id}:t`);
    this.#stamps.delete(`${id}:p`);
    this.#release(g, id);
    this.#rebuild(g);
  }

  #release(g: Group, id: number) {
    for (const r of g.waiters.get(id) ?? []) r();
    g.waiters.delete(id);
  }

  /** Re-create a group's watch after its tickets changed; requests made meanwhile coalesce. */
  #rebuild(g: Group) {
    if (g.scheduled) return;
    g.scheduled = true;
    g.chain = g.chain.then(async () => {
      await g.watch?.stop();
      g.watch = null;
      g.scheduled = false;
      const ids = [...g.ids];
      if (this.#stopped || ids.length === 0) {
        for (const id of [...g.waiters.keys()]) this.#release(g, id);
        return;
      }
      const watched = ids.flatMap((id) => [keys.liveTicket(id), keys.livePresence(id)]);
      const waiting = new Set(g.waiters.keys());
      let first = true;
      g.watch = watchKeys(this.kv, watched, async (entries) => {
        await this.#emitted(g, ids, entries);
        if (first) {
          first = false;
          for (const id of waiting) this.#release(g, id);
        }
      });
    }).catch(() => {});
  }

  async #emitted(g: Group, ids: number[], entries: Deno.KvEntryMaybe<unknown>[]) {
    const work: Promise<void>[] = [];
    ids.forEach((id, i) => {
      if (this.#groupOf.get(id) !== g) return; // removed meanwhile
      const parts = {
        ticket: this.#changed(`${id}:t`, entries[2 * i].versionstamp),
        presence: this.#changed(`${id}:p`, entries[2 * i + 1].versionstamp),
      };
      if (parts.ticket || parts.presence) work.push(this.onChange(id, parts));
    });
    await Promise.all(work);
  }

  #changed(k: string, stamp: string | null): boolean {
    // an unseen key counts as changed: the handler diffs against what it knows
    const had = this.#stamps.has(k);
    const prev = this.#stamps.get(k);
    this.#stamps.set(k, stamp);
    return !had || prev !== stamp;
  }

  /** Tickets watched now. */
  get tickets(): number {
    return this.#groupOf.size;
  }

  /** Open `kv.watch` streams now. */
  get watches(): number {
    return this.#groups.filter((g) => g.watch !== null).length;
  }

  /** Wait until pending re-creations have settled (tests, stop). */
  async settle(): Promise<void> {
    await Promise.all(this.#groups.map((g) => g.chain));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const g of this.#groups) this.#rebuild(g);
    await this.settle();
    this.#groups = [];
    this.#groupOf.clear();
    this.#stamps.clear();
  }
}
