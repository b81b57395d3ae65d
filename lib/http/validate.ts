/**
 * Input validation at the edge: JSON bodies and typed fields with clear 4xx errors.
 * Malformed JSON is 400; a missing or wrong field is 422 naming the field.
 */
import { HttpError } from "../fw/mod.ts";

/** Largest JSON body the API reads. */
export const MAX_JSON_BYTES = 1_048_576;

/** A field error: 422 whose message starts with the field name. */
export function fieldError(field: string, message: string): HttpError {
  const e = new HttpError(422, `${field}: ${message}`, "invalid_field");
  (e as HttpError & { field?: string }).field = field;
  return e;
}

/** Read a JSON object body (400 when not JSON or not an object, 413 when too large). */
export async function readJson(req: Request): Promise<Record<string, unknown>> {
  const len = Number(req.headers.get("content-length") ?? "0");
  if (len > MAX_JSON_BYTES) {
    throw new HttpError(413, "Request body is too large", "payload_too_large");
  }
  const ct = req.headers.get("content-type") ?? "";
  if (ct && !/^application\/([\w.+-]*\+)?json\b/i.test(ct)) {
    throw new HttpError(415, "Send the body as application/json", "unsupported_media_type");
  }
  const buf = new Uint8Array(await req.arrayBuffer());
  if (buf.length > MAX_JSON_BYTES) {
    throw new HttpError(413, "Request body is too large", "payload_too_large");
  }
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder().decode(buf) || "null");
  } catch {
    throw new HttpError(400, "The body is not valid JSON", "invalid_json");
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw new HttpError(400, "The body must be a JSON object", "invalid_json");
  }
  return v as Record<string, unknown>;
}

interface StrOpts {
  max?: number;
  min?: number;
  trim?: boolean;
}

function str(b: Record<string, unknown>, name: string, opts: StrOpts & { required: true }): string;
function str(
  b: Record<string, unknown>,
  name: string,
  opts?: StrOpts & { required?: boolean },
): string | undefined;
function str(
  b: Record<string, unknown>,
  name: string,
  opts: StrOpts & { required?: boolean } = {},
) {
  const v = b[name];
  if (v === undefined || v === null) {
    if (opts.required) throw fieldError(name, "is required");
    return undefined;
  }
  if (typeof v !== "string") throw fieldError(name, "must be a string");
  const s = opts.trim === false ? v : v.trim();
  if (opts.required && s.trim() === "") throw fieldError(name, "must not be empty");
  if (opts.min !== undefined && s.length < opts.min) {
    throw fieldError(name, `must be at least ${opts.min} characters`);
  }
  if (s.length > (opts.max ?? 10_000)) {
    throw fieldError(name, `must be at most ${opts.max ?? 10_000} characters`);
  }
  return s;
}

/** Field readers: `undefined` when absent and optional; a 422 naming the field when wrong. */
export const field = {
  string: str,
  boolean(b: Record<string, unknown>, name: string, required = false): boolean | undefined {
    const v = b[name];
    if (v === undefined || v === null) {
      if (required) throw fieldError(name, "is required");
      return undefined;
    }
    if (typeof v !== "boolean") throw fieldError(name, "must be true or false");
    return v;
  },
  integer(
    b: Record<string, unknown>,
    name: string,
    opts: { min?: number; max?: number; required?: boolean } = {},
  ): number | undefined {
    const v = b[name];
    if (v === undefined || v === null) {
      if (opts.required) throw fieldError(name, "is required");
      return undefined;
    }
    if (typeof v !== "number" || !Number.isInteger(v)) throw fieldError(name, "must be an integer");
    if (opts.min !== undefined && v < opts.min) {
      throw fieldError(name, `must be at least ${opts.min}`);
    }
    if (opts.max !== undefined && v > opts.max) {
      throw fieldError(name, `must be at most ${opts.max}`);
    }
    return v;
  },
  oneOf<T extends string>(
    b: Record<string, unknown>,
    name: string,
    values: readonly T[],
    required = false,
  ): T | undefined {
    const v = b[name];
    if (v === undefined || v === null) {
      if (required) throw fieldError(name, "is required");
      return undefined;
    }
    if (typeof v !== "string" || !values.includes(v as T)) {
      throw fieldError(name, `must be one of ${values.join(", ")}`);
    }
    return v as T;
  },
  email(b: Record<string, unknown>, name: string, required = false): string | undefined {
    const s = field.string(b, name, { required, max: 254 });
    if (s === undefined || (!required && s === "")) return undefined;
    if (!isEmail(s)) throw fieldError(name, "must be an email address");
    return s.toLowerCase();
  },
};

/** A conservative address check: one @, no spaces, angle brackets, commas or control chars. */
export function isEmail(s: string): boolean {
  // deno-lint-ignore no-control-regex
  return /^[^\s@<>,;"()\[\]\\\u0000-\u001f]+@[^\s@<>,;"()\[\]\\\u0000-\u001f]+\.[^\s@<>,;"()\[\]\\\u0000-\u001f]+$/
    .test(s) && s.length <= 254;
}

/** A positive integer path parameter (ticket ids), else 404. */
export function ticketIdParam(v: string | undefined): number {
  if (!v || !/^[1-9]\d{0,9}$/.test(v)) {
    throw new HttpError(404, `No ticket ${v ?? ""}`.trim(), "not_found");
  }
  const n = Number(v);
  if (n > 2 ** 31) throw new HttpError(404, `No ticket ${v}`, "not_found");
  return n;
}

/** JSON answer helper. */
export function json(data: unknown, status = 200, headers?: HeadersInit): Response {
  const h = new Headers(headers);
  h.set("content-type", "application/json; charset=utf-8");
  h.set("cache-control", "no-store");
  return new Response(JSON.stringify(data), { status, headers: h });
}
