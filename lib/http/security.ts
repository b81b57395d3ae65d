/**
 * Secure headers (CSP with a per-request nonce) and cross-origin request protection for
 * state-changing requests, checked the way browsers allow: Sec-Fetch-Site, then Origin.
 */
import { HttpError, type Middleware } from "../fw/mod.ts";
import type { State } from "../state.ts";

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

/** Refuse cross-site state-changing requests (CSRF). Non-browser clients send neither header. */
export function isCrossSite(req: Request, baseUrl: string): boolean {
  if (SAFE.has(req.method)) return false;
  const site = req.headers.get("sec-fetch-site");
  if (site) return !(site === "same-origin" || site === "none");
  const origin = req.headers.get("origin");
  if (!origin) return false;
  if (origin === "null") return true;
  const self = new URL(req.url).origin;
  const host = req.headers.get("host");
  let o: URL;
  try {
    o = new URL(origin);
  } catch {
    return true;
  }
  return !(o.origin === self || o.origin === new URL(baseUrl).origin || (host && o.host === host));
}

export function cspFor(nonce: string): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}'`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** Adds the nonce to state, checks CSRF, and sets secure headers on the answer. */
export const securityMiddleware: Middleware<State> = async (ctx) => {
  const nonce = crypto.randomUUID().replaceAll("-", "");
  ctx.state.cspNonce = nonce;
  if (isCrossSite(ctx.req, ctx.state.svc.config.base_url)) {
    throw new HttpError(403, "Cross-site request refused", "csrf");
  }
  const res = await ctx.next();
  if (res.status === 101) return res; // a WebSocket upgrade: headers are immutable
  const h = res.headers;
  try {
    if (!h.has("content-security-policy")) h.set("content-security-policy", cspFor(nonce));
    h.set("x-content-type-options", "nosniff");
    h.set("referrer-policy", "same-origin");
    h.set("x-frame-options", "DENY");
    // a route may relax it (the OAuth2 callback popup must keep its opener)
    if (!h.has("cross-origin-opener-policy")) {
      h.set("cross-origin-opener-policy", "same-origin-allow-popups");
    }
    h.set("permissions-policy", "camera=(), microphone=(), geolocation=()");
    if (ctx.state.svc.config.base_url.startsWith("https://")) {
      h.set("strict-transport-security", "max-age=31536000; includeSubDomains");
    }
  } catch {
    // immutable headers (a fetched response passed through): leave them
  }
  return res;
};
