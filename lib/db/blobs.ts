/**
 * Blobs: byte strings larger than a KV value (bodies, attachments, raw sources), stored in chunks
 * under ["blob", id, i]. Chunks are written before the commit that references them; a crash in
 * between leaves an unreferenced blob, never a reference to a missing one.
 */
import { ulid } from "ulid";
import { keys } from "./keys.ts";
import { BLOB_CHUNK_BYTES, BLOB_CHUNKS_PER_COMMIT } from "./limits.ts";

/** Write `data` as a new blob and return its id. */
export async function writeBlob(kv: Deno.Kv, data: Uint8Array): Promise<string> {
  const id = ulid();
  const count = Math.max(1, Math.ceil(data.length / BLOB_CHUNK_BYTES));
  for (let first = 0; first < count; first += BLOB_CHUNKS_PER_COMMIT) {
    const op = kv.atomic();
    for (let i = first; i < Math.min(count, first + BLOB_CHUNKS_PER_COMMIT); i++) {
      op.set(
        keys.blobChunk(id, i),
        data.subarray(i * BLOB_CHUNK_BYTES, (i + 1) * BLOB_CHUNK_BYTES),
      );
    }
    const res = await op.commit();
    if (!res.ok) throw new Error("blob write failed");
  }
  return id;
}

/** Read a whole blob (null when it does not exist). */
export async function readBlob(kv: Deno.Kv, id: string): Promise<Uint8Array | null> {
  const parts: Uint8Array[] = [];
  for await (const e of kv.list<Uint8Array>({ prefix: keys.blobChunks(id) })) parts.push(e.value);
  if (parts.length === 0) return null;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Stream a blob chunk by chunk (attachments are served this way). */
export function blobStream(kv: Deno.Kv, id: string): ReadableStream<Uint8Array> {
  const iter = kv.list<Uint8Array>({ prefix: keys.blobChunks(id) }, { batchSize: 4 });
  return new ReadableStream({
    async pull(ctl) {
      const n = await iter.next();
      if (n.done) ctl.close();
      else ctl.enqueue(n.value.value);
    },
  });
}

/** Delete a blob's chunks. */
export async function deleteBlob(kv: Deno.Kv, id: string): Promise<void> {
  let op = kv.atomic();
  let n = 0;
  for await (const e of kv.list({ prefix: keys.blobChunks(id) })) {
    op.delete(e.key);
    if (++n % 100 === 0) {
      await op.commit();
      op = kv.atomic();
    }
  }
  await op.commit();
}

const te = new TextEncoder();
const td = new TextDecoder();

/** Store a JSON value as a blob. */
export function writeJsonBlob(kv: Deno.Kv, value: unknown): Promise<string> {
  return writeBlob(kv, te.encode(JSON.stringify(value)));
}

/** Read a JSON blob. */
export async function readJsonBlob<T>(kv: Deno.Kv, id: string): Promise<T | null> {
  const b = await readBlob(kv, id);
  return b ? JSON.parse(td.decode(b)) as T : null;
}
