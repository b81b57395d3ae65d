/**
 * The one error type routes and middleware throw to answer with an HTTP status.
 * `_error` routes map it to a page or JSON; nothing builds error responses by hand.
 * @module
 */

const CODES: Record<number, string> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  409: "conflict",
  413: "payload_too_large",
  422: "unprocessable",
  429: "too_many_requests",
  500: "internal",
};

/** The machine-readable code used when none is given for `status`. */
export function defaultErrorCode(status: number): string {
  if (CODES[status]) return CODES[status];
  return status >= 500 ? "internal" : "bad_request";
}

/** An error that carries the HTTP status (and a stable code) it should be answered with. */
export class HttpError extends Error {
  /** HTTP status, 400-599. */
  status: number;
  /** Stable machine-readable code, e.g. `"not_found"`. */
  code: string;

  /**
   * @param status HTTP status code to answer with.
   * @param message Human-readable message (safe to show to the client).
   * @param code Machine-readable code; derived from `status` when omitted.
   */
  constructor(status: number, message: string, code?: string) {
    super(message);
    this.name = "HttpError";
    this.status = status;
    this.code = code ?? defaultErrorCode(status);
  }
}

/** The status an error should be answered with: its own for `HttpError`, else 500. */
export function statusOf(error: unknown): number {
  return error instanceof HttpError ? error.status : 500;
}
