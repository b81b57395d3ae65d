import { define } from "../lib/state.ts";
import { page } from "../lib/fw/mod.ts";
import { clearSessionCookie, logout } from "../lib/auth/login.ts";

/**
 * Sign out. The sidebar's button posts here; a plain GET shows a one-button confirmation so a
 * link or prefetch cannot end a session by itself.
 */
export const handler = define.handlers({
  GET(ctx) {
    if (!ctx.state.user) return ctx.redirect("/login", 303);
    return page({ title: "Sign out" });
  },
  async POST(ctx) {
    await logout(ctx.state.svc, ctx.state.sessionToken);
    return new Response(null, {
      status: 303,
      headers: { location: "/login", "set-cookie": clearSessionCookie(ctx.state.svc) },
    });
  },
});

export default define.page(() => (
  <main class="auth-page">
    <form method="post" action="/logout" class="auth-card">
      <h1>Sign out</h1>
      <p>End your WarmDesk session on this browser?</p>
      <button type="submit" class="button button-primary button-block">Sign out</button>
      <p class="muted center">
        <a href="/inbox">Back to the Inbox</a>
      </p>
    </form>
  </main>
));
