/**
 * Who may reach what: the one table of guarded path prefixes, and the middleware that loads the
 * session and enforces it. API calls get 401/403 JSON; pages redirect to /login or show 403.
 */
import { HttpError, type Middleware } from "../fw/mod.ts";
import { getSession, SESSION_COOKIE } from "./sessions.ts";
import { getUser, hasHelpdesk, publicUser } from "../db/users.ts";
import type { State } from "../state.ts";

export type Access = "public" | "user" | "helpdesk" | "admin";

/** First match wins; order from specific to general. */
export const ACCESS_RULES: readonly [prefix: string, access: Access][] = [
  ["/api/v1/health", "public"],
  ["/api/v1/auth/login", "public"],
  ["/api/v1/auth", "user"],
  ["/api/v1/ws", "user"],
  // the OAuth2 popup's landing page: always HTML, even without a session. The route checks the
  // admin session itself, and the state only completes for the admin session that created it.
  ["/api/v1/admin/imap/oauth2/callback", "public"],
  ["/api/v1/admin", "admin"],
  ["/api/v1", "helpdesk"],
  ["/login", "public"],
  ["/logout", "public"],
  ["/_fw/", "public"],
  ["/css/", "public"],
  ["/icons/", "public"],
  ["/favicon.ico", "public"],
  ["/favicon.svg", "public"],
  ["/admin", "admin"],
  ["/inbox", "helpdesk"],
  ["/tickets", "helpdesk"],
  ["/customers", "helpdesk"],
  ["/", "user"],
];

function matches(path: string, prefix: string): boolean {
  if (prefix === "/") return true;
  if (prefix.endsWith("/")) return path.startsWith(prefix);
  return path === prefix || path.startsWith(prefix + "/");
}

/** The access level a path needs. */
export function accessFor(path: string): Access {
  for (const [prefix, access] of ACCESS_RULES) if (matches(path, prefix)) return access;
  return "user";
}

export function readCookie(req: Request, name: string): string | null {
  const header = req.headers.get("cookie");
  if (!header) return null;
  for (const part of header.split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return null;
}

/** Load the session into state and enforce ACCESS_RULES. */
export const sessionGuard: Middleware<State> = async (ctx) => {
  const token = readCookie(ctx.req, SESSION_COOKIE);
  if (token) {
    const s = await getSession(ctx.state.svc.kv, token);
    const u = s ? await getUser(ctx.state.svc.kv, s.user_id) : null;
    if (s && u) {
      ctx.state.session = s;
      ctx.state.sessionToken = token;
      ctx.state.user = publicUser(u);
    }
  }
  const access = accessFor(ctx.url.pathname);
  if (access === "public") return await ctx.next();
  const user = ctx.state.user;
  const isApi = ctx.url.pathname.startsWith("/api/");
  if (!user) {
    if (isApi) throw new HttpError(401, "Sign in first", "unauthorized");
    const next = ctx.url.pathname + ctx.url.search;
    return ctx.redirect(`/login?next=${encodeURIComponent(next)}`);
  }
  if (access === "admin" && user.role !== "admin") {
    throw new HttpError(403, "Only admins may do this", "forbidden");
  }
  if (access === "helpdesk" && !hasHelpdesk(user)) {
    throw new HttpError(403, "Your account has no helpdesk access", "helpdesk_disabled");
  }
  return await ctx.next();
};

/** Type guard for handlers behind the guard. */
export function assertSignedIn(
  state: State,
): asserts state is State & { user: NonNullable<State["user"]> } {
  if (!state.user) throw new HttpError(401, "Sign in first", "unauthorized");
}
