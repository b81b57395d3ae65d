/**
 * Mail that could not be stored (unparseable, over the size cap, or refused by the store
 * step) is kept raw in a blob and listed on the settings page with its error. The record's id
 * is the mail's dedupe key, so seeing the same bad mail again (a crash before it was moved)
 * never lists it twice.
 *
 * @module
 */
import type { Services } from "../state.ts";
import { keys } from "../db/keys.ts";
import { deleteBlob, writeBlob } from "../db/blobs.ts";

/** Why a mail failed. */
export type FailedKind = "unparseable" | "too_large" | "store_failed";

/** Stored under `keys.failedMail(id)`. */
export interface FailedMailRecord {
  /** The dedupe key of the mail (hex SHA-256). */
  id: string;
  at: string;
  kind: FailedKind;
  error: string;
  /** Size of the whole mail on the server, bytes. */
  size: number;
  subject: string | null;
  from: string | null;
  message_id: string | null;
  mailbox: string;
  uid: number | null;
  /** Blob with the raw bytes kept (the whole mail, or only its header section when too large). */
  blob_id: string | null;
  /** How many bytes the blob holds. */
  raw_bytes: number;
  /** True when only the header section was kept (the mail was over the size cap). */
  headers_only: boolean;
}

/** The record as the admin API shows it (no internal blob id). */
export type PublicFailedMail = Omit<FailedMailRecord, "blob_id"> & { raw_available: boolean };

/** Most failed records listed at once. */
export const FAILED_LIST_MAX = 500;

export interface NewFailedMail {
  id: string;
  kind: FailedKind;
  error: string;
  size: number;
  raw: Uint8Array | null;
  headersOnly: boolean;
  subject?: string | null;
  from?: string | null;
  messageId?: string | null;
  mailbox: string;
  uid?: number | null;
}

/** A valid failed-mail id (hex SHA-256). */
export function isFailedId(id: string): boolean {
  return /^[0-9a-f]{64}$/.test(id);
}

/**
 * Keep a failed mail; returns false when a record with this id exists already (nothing
 * written: the mail was recorded by an earlier poll).
 */
export async function recordFailedMail(svc: Services, f: NewFailedMail): Promise<boolean> {
  const kv = svc.kv;
  const key = keys.failedMail(f.id);
  if ((await kv.get(key)).value !== null) return false;
  const blobId = f.raw && f.raw.length > 0 ? await writeBlob(kv, f.raw) : null;
  const rec: FailedMailRecord = {
    id: f.id,
    at: new Date().toISOString(),
    kind: f.kind,
    error: f.error.slice(0, 2000),
    size: f.size,
    subject: f.subject?.slice(0, 500) ?? null,
    from: f.from?.slice(0, 320) ?? null,
    message_id: f.messageId ?? null,
    mailbox: f.mailbox,
    uid: f.uid ?? null,
    blob_id: blobId,
    raw_bytes: f.raw?.length ?? 0,
    headers_only: f.headersOnly,
  };
  const res = await kv.atomic().check({ key, versionstamp: null }).set(key, rec).commit();
  if (!res.ok && blobId) await deleteBlob(kv, blobId);
  return res.ok;
}

/** Whether a failed record exists for these dedupe keys (one read per key). */
export async function failedIds(svc: Services, ids: string[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (let i = 0; i < ids.length; i += 10) {
    const part = ids.slice(i, i + 10);
    const got = await svc.kv.getMany(part.map((id) => keys.failedMail(id)));
    got.forEach((e, j) => {
      if (e.value !== null) out.add(part[j]);
    });
  }
  return out;
}

function toPublic(r: FailedMailRecord): PublicFailedMail {
  const { blob_id, ...rest } = r;
  return { ...rest, raw_available: blob_id !== null };
}

/** Failed mail, newest first, at most {@link FAILED_LIST_MAX}. */
export async function listFailedMail(svc: Services): Promise<PublicFailedMail[]> {
  const all: FailedMailRecord[] = [];
  for await (const e of svc.kv.list<FailedMailRecord>({ prefix: keys.failedMails() })) {
    all.push(e.value);
  }
  all.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  return all.slice(0, FAILED_LIST_MAX).map(toPublic);
}

export async function getFailedMail(svc: Services, id: string): Promise<FailedMailRecord | null> {
  if (!isFailedId(id)) return null;
  return (await svc.kv.get<FailedMailRecord>(keys.failedMail(id))).value ?? null;
}

/** Dismiss a failed mail (its raw copy goes too). Returns false when it did not exist. */
export async function deleteFailedMail(svc: Services, id: string): Promise<boolean> {
  const rec = await getFailedMail(svc, id);
  if (!rec) return false;
  await svc.kv.delete(keys.failedMail(id));
  if (rec.blob_id) await deleteBlob(svc.kv, rec.blob_id);
  return true;
}
