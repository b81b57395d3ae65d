/**
 * Files from the static folder, served at "/" with a content ETag and revalidation.
 * @module
 */
import { extname, join, resolve, sep } from "node:path";

const TYPES: Record<string, string> = {
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".html": "text/html; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".ico": "image/x-icon",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".webmanifest": "application/manifest+json",
  ".map": "application/json; charset=utf-8",
};

/** Cache-Control for static files: always revalidate (cheap with the ETag). */
export const STATIC_CACHE_CONTROL = "public, max-age=0, must-revalidate";
/** Files up to this size stay in memory after the first read. */
const MEMORY_LIMIT = 512 * 1024;

interface Entry {
  mtime: number;
  size: number;
  etag: string;
  body?: Uint8Array;
}

/** The content type for a file name. */
export function contentType(name: string): string {
  return TYPES[extname(name).toLowerCase()] ?? "application/octet-stream";
}

/** Quoted ETag from a content hash. */
export async function etagOf(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-1", bytes as BufferSource));
  return `"${[...d.slice(0, 10)].map((b) => b.toString(16).padStart(2, "0")).join("")}"`;
}

/** True when `If-None-Match` names `etag`. */
export function matchesEtag(req: Request, etag: string): boolean {
  const inm = req.headers.get("if-none-match");
  if (!inm) return false;
  return inm.trim() === "*" || inm.split(",").some((t) => t.trim().replace(/^W\//, "") === etag);
}

/** A static file server for `dir`; answers `null` when no file matches. */
export function staticFiles(dir: string): (req: Request, path: string) => Promise<Response | null> {
  const base = resolve(dir);
  const cache = new Map<string, Entry>();
  return async (req, path) => {
    if (req.method !== "GET" && req.method !== "HEAD") return null;
    let rel: string;
    try {
      rel = decodeURIComponent(path);
    } catch {
      return null;
    }
    if (rel.includes("\0") || rel.split("/").some((s) => s === "..") || rel.endsWith("/")) {
      return null;
    }
    const file = join(base, rel);
    if (!file.startsWith(base + sep)) return null;
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(file);
    } catch {
      return null;
    }
    if (!info.isFile) return null;
    const mtime = info.mtime?.getTime() ?? 0;
    let entry = cache.get(file);
    let body: Uint8Array | undefined;
    if (!entry || entry.mtime !== mtime || entry.size !== info.size) {
      body = await Deno.readFile(file);
      entry = { mtime, size: info.size, etag: await etagOf(body) };
      if (body.length <= MEMORY_LIMIT) entry.body = body;
      cache.set(file, entry);
    }
    const headers = new Headers({
      "content-type": contentType(file),
      "cache-control": STATIC_CACHE_CONTROL,
      etag: entry.etag,
    });
    if (matchesEtag(req, entry.etag)) return new Response(null, { status: 304, headers });
    body ??= entry.body ?? await Deno.readFile(file);
    headers.set("content-length", String(body.length));
    return new Response(body as BodyInit, { headers });
  };
}
