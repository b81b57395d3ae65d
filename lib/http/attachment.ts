/** Serving stored attachments with safe headers. */
import { HttpError } from "../fw/mod.ts";
import { getAttachment } from "../db/messages.ts";
import { blobStream } from "../db/blobs.ts";

/** Types a browser may show inline from our origin; everything else is a download. */
const INLINE_SAFE = /^(image\/(png|jpeg|gif|webp|avif|bmp)|application\/pdf|text\/plain)$/i;

function contentDisposition(kind: "inline" | "attachment", filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, "_");
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

export async function attachmentResponse(kv: Deno.Kv, id: string, req: Request): Promise<Response> {
  if (!/^[0-9A-HJKMNP-TV-Z]{26}$/.test(id)) {
    throw new HttpError(404, "No such attachment", "not_found");
  }
  const a = await getAttachment(kv, id);
  if (!a) throw new HttpError(404, "No such attachment", "not_found");
  const type = a.content_type.toLowerCase().split(";")[0].trim() || "application/octet-stream";
  const inline = INLINE_SAFE.test(type);
  const etag = `"${a.id}"`;
  const headers = new Headers({
    "content-type": inline
      ? (type === "text/plain" ? "text/plain; charset=utf-8" : type)
      : "application/octet-stream",
    "content-length": String(a.size),
    "content-disposition": contentDisposition(
      inline ? "inline" : "attachment",
      a.filename || "attachment",
    ),
    "cache-control": "private, max-age=86400, immutable",
    "content-security-policy":
      "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox",
    "x-content-type-options": "nosniff",
    etag,
  });
  if (req.headers.get("if-none-match") === etag) {
    return new Response(null, { status: 304, headers });
  }
  return new Response(req.method === "HEAD" ? null : blobStream(kv, a.blob_id), { headers });
}
