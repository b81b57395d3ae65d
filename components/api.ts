/**
 * The islands' JSON client for `/api/v1`: same-origin fetch with the session cookie, error
 * bodies turned into `ApiError` with the server's message, code and field.
 * @module
 */

/** A failed API call, carrying the server's `{error, code, field?}`. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/**
 * Call the API. Resolves with the parsed JSON (or null for 204); rejects with `ApiError`
 * (status 0 when the network failed).
 */
export async function api<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: body === undefined
        ? { accept: "application/json" }
        : { accept: "application/json", "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError("Network error: the server could not be reached", 0, "network");
  }
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const d = (data ?? {}) as { error?: string; code?: string; field?: string };
    if (res.status === 401 && typeof location !== "undefined") {
      // The session ended: go sign in again and come back here
      location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
    }
    throw new ApiError(
      d.error ?? `Request failed (${res.status})`,
      res.status,
      d.code ?? "http_" + res.status,
      d.field,
    );
  }
  return data as T;
}

/** The message to show for any thrown value. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
