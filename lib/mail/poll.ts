/**
 * One poll of the mailbox (DESIGN.md, "Ingestion: exactly once"):
 *
 *  1. connect, make sure the processed mailbox exists, open the mailbox;
 *  2. list UIDs, drop those remembered as "MOVE refused, marked \Seen", cap the number;
 *  3. headers first: Message-ID and size of each; mail whose dedupe key (or failed record) is
 *     stored already was handled by an earlier poll that died before moving it: skip it;
 *  4. fetch the sources of the rest in batches (bounded by count and bytes), parse, thread and
 *     store each with one atomic commit (`ingest.ts`); mail that cannot be parsed, is over the
 *     size cap or cannot be stored is kept raw (`failed_mail.ts`) and never blocks the others;
 *  5. after each batch, UID MOVE the batch to the processed mailbox; if MOVE is refused, mark
 *     the batch \Seen and remember its UIDs in KV so they are never imported again.
 *
 * A crash anywhere leaves "stored, not moved" (step 3 of the next poll skips and moves it) or
 * "not stored" (the next poll imports it). This module does not take the lease: callers go
 * through the scheduler, which does.
 *
 * @module
 */
import type { ImapFlow } from "imapflow";
import { createHash } from "node:crypto";
import type { Services } from "../state.ts";
import { keys } from "../db/keys.ts";
import { logger } from "../log.ts";
import { getImapSettings, type ImapSettingsRecord } from "./imap_settings.ts";
import {
  closeImap,
  describeImapError,
  type ImapClientExtras,
  ImapConnectError,
  openImap,
} from "./imap_connect.ts";
import {
  headerBlock,
  MailParseError,
  type ParsedMail,
  parseHeaderIds,
  parseMail,
} from "./parse.ts";
import { isTransientKvError } from "./lease.ts";
import { KV_GET_MANY_MAX } from "../db/limits.ts";
import { dedupeKey } from "./ids.ts";
import { type IngestOutcome, ingestParsed } from "./ingest.ts";
import { kvThreadLookup } from "./thread.ts";
import { type FailedKind, recordFailedMail } from "./failed_mail.ts";

const log = logger("poll");

/** Most messages one poll handles; the next poll continues with the rest. */
export const POLL_MAX_MESSAGES = 500;
/** Most messages whose sources are fetched in one FETCH. */
export const POLL_BATCH_MESSAGES = 50;
/** Most bytes of sources fetched in one FETCH (a single larger mail still goes alone). */
export const POLL_BATCH_BYTES = 16 * 1024 * 1024;
/** UIDs per headers-first FETCH. */
export const POLL_HEADER_CHUNK = 500;
/** KV writes per commit when remembering \Seen UIDs. */
const SEEN_WRITE_CHUNK = 200;

/** The poll answer (API.md). */
export interface PollResult {
  ok: boolean;
  imported: number;
  threaded: number;
  skipped: number;
  failed: number;
  error?: string;
  /** More mail waits beyond the per-poll cap. */
  more?: boolean;
}

/** Failure injection points for tests (a crash between store and move, ...). */
export interface PollHooks {
  /** After a message was stored (or skipped, or recorded as failed), before its batch moves. */
  afterStore?: (info: { uid: number; outcome: IngestOutcome | { status: "failed" } }) =>
    | void
    | Promise<void>;
  /** Right before a mail that was downloaded and parsed is stored. */
  beforeStore?: (uid: number) => void | Promise<void>;
  /** Right before a batch is moved. */
  beforeMove?: (uids: number[]) => void | Promise<void>;
}

export interface PollOptions {
  /** Settings to use instead of the stored ones. */
  settings?: ImapSettingsRecord;
  hooks?: PollHooks;
  /** Per-poll cap (default {@link POLL_MAX_MESSAGES}). */
  maxMessages?: number;
  batchMessages?: number;
  batchBytes?: number;
  extras?: ImapClientExtras;
  /** Called between batches; returning false stops the poll (the lease was lost). */
  heartbeat?: () => Promise<boolean>;
}

interface Meta {
  uid: number;
  size: number;
  messageId: string | null;
  /** Dedupe key, when known from the headers-first stage (mail with a Message-ID). */
  dedupe?: string;
  /** The headers-first stage found neither the dedupe key nor the Message-ID stored. */
  prechecked?: boolean;
}

/** A fetched source and its parse, which runs ahead of the store step. */
interface Fetched {
  meta: Meta;
  raw: Uint8Array;
  ready: Promise<Prepared>;
}

/** A fetched source made ready to store (parsing runs ahead of storing). */
type Prepared =
  | {
    kind: "ok";
    parsed: ParsedMail;
    dedupe: string;
    /** Thread index values of the mail's In-Reply-To and References ids, read ahead. */
    threadIds: Promise<Map<string, number | null> | null>;
  }
  | { kind: "too_large" }
  | { kind: "unparseable"; why: string };

/**
 * `dedupeKey` of `ids.ts` for a mail with a Message-ID, computed synchronously: the
 * headers-first stage hashes every id of the poll, and WebCrypto's async digest costs ~0.1 ms
 * a call. Same bytes, same hash (checked by poll_test.ts).
 */
export function midDedupeKey(messageId: string): string {
  return createHash("sha256").update("mid:" + messageId.toLowerCase()).digest("hex");
}

/** Compress UIDs into an IMAP sequence set ("1:5,7,9:10"). */
export function uidSet(uids: number[]): string {
  const s = [...new Set(uids)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < s.length;) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j] + 1) j++;
    parts.push(i === j ? String(s[i]) : `${s[i]}:${s[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

/** Split metas into source batches bounded by count and bytes. */
export function sourceBatches(metas: Meta[], maxCount: number, maxBytes: number): Meta[][] {
  const out: Meta[][] = [];
  let cur: Meta[] = [];
  let bytes = 0;
  for (const m of metas) {
    if (cur.length > 0 && (cur.length >= maxCount || bytes + m.size > maxBytes)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(m);
    bytes += m.size;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

function asBytes(b: Uint8Array | undefined): Uint8Array {
  return b ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : new Uint8Array(0);
}

/** Make sure the processed mailbox exists; returns an error sentence when it cannot be made. */
async function ensureMailbox(client: ImapFlow, name: string): Promise<string | null> {
  try {
    await client.mailboxCreate(name);
    return null;
  } catch (e) {
    // some servers answer NO without ALREADYEXISTS for an existing mailbox
    const st = await client.status(name, { messages: true }).catch(() => false);
    if (st) return null;
    const err = e as { responseText?: string; message?: string };
    return `the processed mailbox "${name}" does not exist and could not be created (${
      err.responseText ?? err.message
    })`;
  }
}

/** Mail we may not import again: MOVE was refused and the UIDs were marked \Seen. */
async function seenUids(kv: Deno.Kv, mailbox: string, validity: string): Promise<Set<number>> {
  const out = new Set<number>();
  const prefix = keys.seenUid(mailbox, validity, 0).slice(0, 3);
  for await (const e of kv.list({ prefix })) out.add(e.key[3] as number);
  return out;
}

async function rememberSeen(
  kv: Deno.Kv,
  mailbox: string,
  validity: string,
  uids: number[],
): Promise<void> {
  for (let i = 0; i < uids.length; i += SEEN_WRITE_CHUNK) {
    const op = kv.atomic();
    for (const uid of uids.slice(i, i + SEEN_WRITE_CHUNK)) {
      op.set(keys.seenUid(mailbox, validity, uid), Date.now());
    }
    const res = await op.commit();
    if (!res.ok) throw new Error("could not remember \\Seen UIDs");
  }
}

/** Everything one poll works with. */
interface Run {
  svc: Services;
  s: ImapSettingsRecord;
  client: ImapFlow;
  validity: string;
  opts: PollOptions;
  result: PollResult;
  moveError: string | null;
  /** Message-IDs (lowercased) this poll stored, with their ticket. */
  storedIds: Map<string, number>;
}

/** Move handled UIDs out of the mailbox; MOVE refused → \Seen + remembered. */
async function moveBatch(run: Run, uids: number[], flagged: number[]): Promise<void> {
  if (uids.length === 0) return;
  await run.opts.hooks?.beforeMove?.(uids);
  const { client, s } = run;
  if (flagged.length > 0) {
    // failed mail is easy to find in the processed mailbox
    await client.messageFlagsAdd(uidSet(flagged), ["\\Flagged"], { uid: true }).catch(() => false);
  }
  const moved = await client.messageMove(uidSet(uids), s.processed_mailbox, { uid: true });
  if (moved) return;
  await rememberSeen(run.svc.kv, s.mailbox, run.validity, uids);
  await client.messageFlagsAdd(uidSet(uids), ["\\Seen"], { uid: true });
  run.moveError ??=
    `Moving mail to "${s.processed_mailbox}" was refused by the server; the mail was marked \\Seen and left in "${s.mailbox}", and will not be imported again`;
  log.warn("MOVE refused; marked \\Seen", { mailbox: s.mailbox, count: uids.length });
}

async function fail(
  run: Run,
  meta: Meta,
  kind: FailedKind,
  error: string,
  raw: Uint8Array | null,
  headersOnly: boolean,
): Promise<void> {
  const id = await dedupeKey(meta.messageId, raw ?? new Uint8Array(0));
  let subject: string | null = null, from: string | null = null;
  if (raw) {
    const head = headerBlock(raw, 64 * 1024);
    subject = /^subject:[ \t]*(.*(?:\r?\n[ \t].*)*)/im.exec(head)?.[1].replace(/\r?\n/g, "") ??
      null;
    from = /^from:[ \t]*(.*(?:\r?\n[ \t].*)*)/im.exec(head)?.[1].replace(/\r?\n/g, "") ?? null;
  }
  const fresh = await recordFailedMail(run.svc, {
    id,
    kind,
    error,
    size: meta.size,
    raw,
    headersOnly,
    subject,
    from,
    messageId: meta.messageId,
    mailbox: run.s.mailbox,
    uid: meta.uid,
  });
  if (fresh) {
    run.result.failed++;
    log.warn("mail kept as failed", { uid: meta.uid, kind, error });
  } else {
    // recorded by an earlier poll that stopped before moving it
    run.result.skipped++;
  }
}

/** Store, retrying a few times while another process holds the KV file's write lock. */
async function storeWithRetry(
  svc: Services,
  parsed: ParsedMail,
  dedupe: string,
  raw: Uint8Array,
  prechecked: boolean,
  knownThreadIds?: ReadonlyMap<string, number | null>,
): Promise<IngestOutcome> {
  for (let i = 0;; i++) {
    try {
      return await ingestParsed(svc, parsed, dedupe, {
        raw,
        prechecked: prechecked && i === 0,
        knownThreadIds: i === 0 ? knownThreadIds : undefined,
      });
    } catch (e) {
      if (!isTransientKvError(e) || i >= 4) throw e;
      await new Promise((r) => setTimeout(r, 20 * (i + 1) + Math.random() * 30));
    }
  }
}

/** Parse a fetched source (CPU work that may run ahead of the store of earlier mail). */
async function prepare(
  kv: Deno.Kv,
  meta: Meta,
  raw: Uint8Array,
  max: number,
): Promise<Prepared> {
  if (raw.length > max) return { kind: "too_large" };
  try {
    const parsed = await parseMail(raw);
    const dedupe = meta.dedupe ?? await dedupeKey(meta.messageId, raw);
    return { kind: "ok", parsed, dedupe, threadIds: readThreadIds(kv, parsed) };
  } catch (e) {
    const why = e instanceof MailParseError
      ? e.message
      : `parser crashed: ${(e as Error)?.message}`;
    return { kind: "unparseable", why };
  }
}

/**
 * Read ahead, while earlier mail is stored, which tickets the ids a mail answers belong to.
 * Safe to use later because thread index entries are only ever added, and one this read
 * missed can only be added afterwards by this poll (merged in from `Run.storedIds` at store
 * time) or by an outbound reply committed after this mail was downloaded, which this mail
 * cannot be answering. Null when there is nothing to read or the read failed (threading then
 * reads itself).
 */
function readThreadIds(
  kv: Deno.Kv,
  mail: ParsedMail,
): Promise<Map<string, number | null> | null> {
  const ids = [...new Set([...mail.inReplyTo, ...mail.references].map((id) => id.toLowerCase()))];
  if (ids.length === 0) return Promise.resolve(null);
  return kvThreadLookup(kv).ticketsByMessageIds!(ids)
    .then((found) => new Map(ids.map((id, i) => [id, found[i]])))
    .catch(() => null);
}

/** Store one prepared mail, or keep it as failed. Returns false when it failed. */
async function handleSource(
  run: Run,
  meta: Meta,
  raw: Uint8Array,
  p: Prepared,
): Promise<boolean> {
  if (p.kind === "too_large") {
    const max = run.svc.config.max_message_bytes;
    await fail(run, meta, "too_large", `larger than the ${max}-byte limit`, headerOnly(raw), true);
    return false;
  }
  if (p.kind === "unparseable") {
    await fail(run, meta, "unparseable", p.why, raw, false);
    return false;
  }
  let outcome: IngestOutcome;
  await run.opts.hooks?.beforeStore?.(meta.uid);
  const known = await p.threadIds;
  // mail this poll stored after the read ahead
  for (const id of known?.keys() ?? []) {
    const t = run.storedIds.get(id);
    if (t !== undefined) known!.set(id, t);
  }
  try {
    outcome = await storeWithRetry(
      run.svc,
      p.parsed,
      p.dedupe,
      raw,
      !!meta.prechecked,
      known ?? undefined,
    );
  } catch (e) {
    // KV itself failing is not this mail's fault: stop; the next poll takes it again
    if (isTransientKvError(e)) throw e;
    await fail(run, meta, "store_failed", (e as Error)?.message ?? String(e), raw, false);
    return false;
  }
  if ((outcome.status === "created" || outcome.status === "threaded") && p.parsed.messageId) {
    run.storedIds.set(p.parsed.messageId.toLowerCase(), outcome.ticket_id);
  }
  const r = run.result;
  if (outcome.status === "created") r.imported++;
  else if (outcome.status === "threaded") {
    r.imported++;
    r.threaded++;
  } else r.skipped++;
  await run.opts.hooks?.afterStore?.({ uid: meta.uid, outcome });
  return true;
}

function headerOnly(raw: Uint8Array): Uint8Array {
  return new TextEncoder().encode(headerBlock(raw) + "\r\n\r\n");
}

/** Headers first: Message-ID and size of every UID. */
async function fetchMetas(client: ImapFlow, uids: number[]): Promise<Meta[]> {
  const out: Meta[] = [];
  for (let i = 0; i < uids.length; i += POLL_HEADER_CHUNK) {
    const part = uids.slice(i, i + POLL_HEADER_CHUNK);
    const got = await client.fetchAll(uidSet(part), {
      uid: true,
      size: true,
      headers: ["message-id"],
    }, { uid: true });
    for (const m of got) {
      const head = new TextDecoder().decode(asBytes(m.headers));
      out.push({ uid: m.uid, size: m.size ?? 0, messageId: parseHeaderIds(head).messageId });
    }
  }
  return out.sort((a, b) => a.uid - b.uid);
}

/**
 * Which metas need no source fetch: stored by an earlier poll (dedupe key present), recorded
 * as failed, or already on a ticket under their Message-ID (our own outbound mail coming
 * back). The rest with a Message-ID are marked `prechecked`, with their dedupe key.
 */
async function alreadyHandled(svc: Services, metas: Meta[]): Promise<Set<number>> {
  const withId = metas.filter((m) => m.messageId !== null);
  const out = new Set<number>();
  const per = Math.floor(KV_GET_MANY_MAX / 3);
  const reads: Promise<void>[] = [];
  for (let i = 0; i < withId.length; i += per) {
    const part = withId.slice(i, i + per);
    const hashes = part.map((m) => midDedupeKey(m.messageId!));
    const ks = part.flatMap((m, j) => [
      keys.dedupe(hashes[j]),
      keys.threadIndex(m.messageId!.toLowerCase()),
      keys.failedMail(hashes[j]),
    ]);
    // every chunk at once: independent reads, one round trip for the whole poll
    reads.push(
      svc.kv.getMany(ks).then((got) => {
        part.forEach((m, j) => {
          if (got.slice(3 * j, 3 * j + 3).some((e) => e.value !== null)) out.add(m.uid);
          else {
            m.dedupe = hashes[j];
            m.prechecked = true;
          }
        });
      }),
    );
  }
  await Promise.all(reads);
  return out;
}

/** One step of the pipeline: mail handled without a download, or a batch of sources. */
type Unit =
  | { kind: "skip"; skipped: number[]; tooLarge: Meta[] }
  | { kind: "batch"; items: Promise<Fetched[]> };

/**
 * The poll's work in order, one chunk of UIDs at a time: headers first (Message-ID and size),
 * the batched KV pre-check, then the source batches of the mail still to store, each already
 * downloading and then parsing when it is handed out. The consumer asks for the next unit as
 * soon as it takes one, so the headers, pre-check, download and parse of the next batch all
 * run while the current batch is stored.
 */
async function* units(run: Run, uids: number[]): AsyncGenerator<Unit> {
  const { client, svc, opts } = run;
  const max = svc.config.max_message_bytes;
  const chunk = opts.batchMessages ?? POLL_BATCH_MESSAGES;
  // Every mail is parsed as soon as its batch is there and the mail before it is parsed.
  // Parsing is CPU work on this thread, while the store step mostly waits for KV commits on
  // the KV thread: the parse of the next mails runs while a commit is in flight.
  let parsing: Promise<unknown> = Promise.resolve();
  const startBatch = (b: Meta[]): Promise<Fetched[]> => {
    const got = client.fetchAll(uidSet(b.map((m) => m.uid)), { uid: true, source: true }, {
      uid: true,
    });
    const items = got.then((list) => {
      const byUid = new Map(list.map((m) => [m.uid, asBytes(m.source)]));
      // mail missing from the answer was expunged meanwhile
      return b.filter((m) => byUid.has(m.uid)).map((meta) => {
        const raw = byUid.get(meta.uid)!;
        const ready = parsing.then(() => prepare(svc.kv, meta, raw, max));
        parsing = ready.catch(() => {});
        return { meta, raw, ready };
      });
    });
    items.catch(() => {}); // awaited in its turn; no unhandled rejection if the poll stops first
    return items;
  };
  for (let i = 0; i < uids.length; i += chunk) {
    const metas = await fetchMetas(client, uids.slice(i, i + chunk));
    const handled = await alreadyHandled(svc, metas);
    const skipped: number[] = [], tooLarge: Meta[] = [], fetchable: Meta[] = [];
    for (const m of metas) {
      if (handled.has(m.uid)) skipped.push(m.uid);
      else if (m.size > max) tooLarge.push(m);
      else fetchable.push(m);
    }
    if (skipped.length > 0 || tooLarge.length > 0) yield { kind: "skip", skipped, tooLarge };
    for (const b of sourceBatches(fetchable, chunk, opts.batchBytes ?? POLL_BATCH_BYTES)) {
      yield { kind: "batch", items: startBatch(b) };
    }
  }
}

async function pollMailbox(run: Run): Promise<void> {
  const { client, s, svc, opts, result } = run;
  const all = await client.search({ deleted: false }, { uid: true }) || [];
  const seen = await seenUids(svc.kv, s.mailbox, run.validity);
  let todo = all.filter((u) => !seen.has(u)).sort((a, b) => a - b);
  const cap = opts.maxMessages ?? POLL_MAX_MESSAGES;
  if (todo.length > cap) {
    result.more = true;
    todo = todo.slice(0, cap);
  }
  if (todo.length === 0) return;

  const max = svc.config.max_message_bytes;
  const work = units(run, todo);
  let next = work.next();
  next.catch(() => {}); // awaited below; no unhandled rejection if the poll stops first
  let moving: Promise<void> = Promise.resolve();
  let moveUids: number[] = [], flagged: number[] = [];
  // the MOVE runs while the next batch is stored; its outcome is awaited before the next MOVE
  // and at the end, so a failure still stops the poll
  const flush = async () => {
    await moving;
    moving = moveBatch(run, moveUids, flagged);
    moving.catch(() => {});
    moveUids = [];
    flagged = [];
  };
  for (;;) {
    const step = await next;
    if (step.done) break;
    next = work.next(); // the next unit's IMAP and parse work overlaps this one's store
    next.catch(() => {});
    const unit = step.value;
    if (unit.kind === "skip") {
      // handled by an earlier poll: moved with the next batch
      result.skipped += unit.skipped.length;
      moveUids.push(...unit.skipped);
      for (const m of unit.tooLarge) {
        // keep the header section only: the mail itself stays in the processed mailbox, flagged
        const got = await client.fetchAll(String(m.uid), { uid: true, headers: true }, {
          uid: true,
        });
        const head = asBytes(got[0]?.headers);
        await fail(
          run,
          m,
          "too_large",
          `${m.size} bytes, larger than the ${max}-byte limit`,
          head,
          true,
        );
        await opts.hooks?.afterStore?.({ uid: m.uid, outcome: { status: "failed" } });
        moveUids.push(m.uid);
        flagged.push(m.uid);
      }
      continue;
    }
    for (const { meta, raw, ready } of await unit.items) {
      const pr = await ready;
      const stored = await handleSource(run, meta, raw, pr);
      if (!stored) {
        flagged.push(meta.uid);
        await opts.hooks?.afterStore?.({ uid: meta.uid, outcome: { status: "failed" } });
      }
      moveUids.push(meta.uid);
    }
    await flush();
    if (opts.heartbeat && !(await opts.heartbeat())) {
      throw new Error("the poll lease was lost; stopping (the next poll continues)");
    }
  }
  if (moveUids.length > 0) await flush();
  await moving;
}

function emptyResult(): PollResult {
  return { ok: true, imported: 0, threaded: 0, skipped: 0, failed: 0 };
}

/**
 * Run one poll with the stored (or given) settings. Never throws: failures come back as
 * `{ok: false, error}` with the counts of what was done before the failure.
 */
export async function runPoll(svc: Services, opts: PollOptions = {}): Promise<PollResult> {
  const result = emptyResult();
  const s = opts.settings ?? await getImapSettings(svc);
  if (!s.host) {
    return { ...result, ok: false, error: "Incoming mail is not configured: no IMAP host is set" };
  }
  let client: ImapFlow | null = null;
  let run: Run | null = null;
  try {
    client = await openImap(svc, s, opts.extras);
    const boxError = await ensureMailbox(client, s.processed_mailbox);
    let lock;
    try {
      lock = await client.getMailboxLock(s.mailbox);
    } catch (e) {
      throw describeImapError(e, s);
    }
    try {
      const mb = client.mailbox;
      const validity = mb && typeof mb === "object" ? String(mb.uidValidity) : "0";
      const moveError = boxError &&
        `Moving mail is not possible: ${boxError}; handled mail is marked \\Seen and left in "${s.mailbox}"`;
      run = { svc, s, client, validity, opts, result, moveError, storedIds: new Map() };
      await pollMailbox(run);
    } finally {
      lock.release();
    }
    if (run.moveError) result.error = run.moveError;
  } catch (e) {
    result.ok = false;
    result.error = e instanceof ImapConnectError
      ? e.message
      : `Poll stopped: ${(e as Error)?.message ?? e}`;
    if (run?.moveError) result.error += `; also: ${run.moveError}`;
    log.error("poll failed", { error: result.error });
  } finally {
    await closeImap(client);
  }
  return result;
}
