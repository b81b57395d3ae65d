import { define } from "../lib/state.ts";
import { page } from "../lib/fw/mod.ts";
import { HttpError } from "../lib/fw/mod.ts";
import { login, sessionCookie } from "../lib/auth/login.ts";
import { isLocalPath } from "../components/format.ts";

interface LoginData {
  title: string;
  next: string;
  email: string;
  error: string | null;
}

function target(next: string | null): string {
  return isLocalPath(next) && !next.startsWith("/login") ? next : "/inbox";
}

/**
 * The sign-in page. The form posts here (no script needed): on success the session cookie is
 * set and the browser goes to `?next=` (a local path) or the Inbox; on failure the form comes
 * back with the error and the email kept.
 */
export const handler = define.handlers({
  GET(ctx) {
    const next = ctx.url.searchParams.get("next");
    if (ctx.state.user) return ctx.redirect(target(next), 303);
    return page<LoginData>({ title: "Sign in", next: target(next), email: "", error: null });
  },
  async POST(ctx) {
    let form: FormData;
    try {
      form = await ctx.req.formData();
    } catch {
      throw new HttpError(400, "The sign-in form could not be read", "bad_request");
    }
    const email = String(form.get("email") ?? "").trim().slice(0, 254);
    const password = String(form.get("password") ?? "").slice(0, 1024);
    const next = target(String(form.get("next") ?? ""));
    if (!email || !password) {
      return page<LoginData>(
        { title: "Sign in", next, email, error: "Enter your email and password." },
        { status: 422 },
      );
    }
    try {
      const { token } = await login(ctx.state.svc, email, password, ctx.info);
      return new Response(null, {
        status: 303,
        headers: { location: next, "set-cookie": sessionCookie(ctx.state.svc, token) },
      });
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      const headers: Record<string, string> = {};
      const retry = (err as HttpError & { retryAfter?: number }).retryAfter;
      if (retry) headers["retry-after"] = String(retry);
      return page<LoginData>(
        { title: "Sign in", next, email, error: err.message },
        { status: err.status, headers },
      );
    }
  },
});

export default define.page<typeof handler>(({ data }) => (
  <main class="auth-page">
    <form method="post" action="/login" class="auth-card" novalidate>
      <div class="auth-brand">
        <span class="brand-mark" aria-hidden="true">W</span>
        <span class="brand-name">WarmDesk</span>
      </div>
      <h1>Sign in</h1>
      {data.error
        ? (
          <p class="alert alert-error" role="alert" id="login-error">
            {data.error}
          </p>
        )
        : null}
      <input type="hidden" name="next" value={data.next} />
      <label class="field">
        <span class="label">Email</span>
        <input
          type="email"
          name="email"
          value={data.email}
          autocomplete="username"
          required
          autofocus={!data.email}
          aria-describedby={data.error ? "login-error" : undefined}
        />
      </label>
      <label class="field">
        <span class="label">Password</span>
        <input
          type="password"
          name="password"
          autocomplete="current-password"
          required
          autofocus={!!data.email}
        />
      </label>
      <button type="submit" class="button button-primary button-block">Sign in</button>
    </form>
  </main>
));
