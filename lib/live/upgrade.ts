/**
 * Turning an authenticated `GET /api/v1/ws` into a hub socket; the route file only calls
 * `upgradeLive`. The hub itself is registered by `lib/live/mod.ts` (a subsystem), which route
 * modules must not import: `lib/app.ts` imports the routes, and SUBSYSTEMS lives there.
 */
import { HttpError } from "../fw/mod.ts";
import { hasHelpdesk, type PublicUser } from "../db/users.ts";
import type { Services } from "../state.ts";
import type { LiveHub } from "./hub.ts";
import { WS_IDLE_TIMEOUT_S } from "./constants.ts";

/** The process's hub, or null when the live subsystem is not loaded. */
export function liveHub(svc: Services): LiveHub | null {
  return (svc.ext.live as LiveHub | undefined) ?? null;
}

/** A browser's handshake must come from our own origin (cookies alone do not prove it). */
function foreignOrigin(req: Request, baseUrl: string): boolean {
  const origin = req.headers.get("origin");
  if (!origin) return false; // not a browser: the session cookie is the credential
  let o: URL;
  try {
    o = new URL(origin);
  } catch {
    return true;
  }
  const self = new URL(req.url);
  const host = req.headers.get("host");
  return !(o.origin === self.origin || o.origin === new URL(baseUrl).origin ||
    (host !== null && o.host === host));
}

/**
 * Answer `GET /api/v1/ws` for a signed-in user: 426 without an upgrade, 403 for a foreign origin
 * or a user without helpdesk access, 503 when the hub is not running; else the 101 upgrade.
 */
export function upgradeLive(
  svc: Services,
  req: Request,
  user: PublicUser,
  sessionToken: string | null,
): Response {
  if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    throw new HttpError(426, "This endpoint speaks WebSocket only", "upgrade_required");
  }
  if (foreignOrigin(req, svc.config.base_url)) {
    throw new HttpError(403, "Cross-site WebSocket refused", "csrf");
  }
  if (!hasHelpdesk(user)) {
    throw new HttpError(403, "Your account has no helpdesk access", "helpdesk_disabled");
  }
  const hub = liveHub(svc);
  if (!hub) throw new HttpError(503, "Live updates are not running", "live_unavailable");
  const { socket, response } = Deno.upgradeWebSocket(req, { idleTimeout: WS_IDLE_TIMEOUT_S });
  hub.accept(socket, user, sessionToken);
  return response;
}
