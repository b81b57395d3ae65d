import { define } from "../../../../lib/state.ts";
import { clearSessionCookie, logout } from "../../../../lib/auth/login.ts";

export const handler = define.handlers({
  async POST(ctx) {
    await logout(ctx.state.svc, ctx.state.sessionToken);
    return new Response(null, {
      status: 204,
      headers: { "set-cookie": clearSessionCookie(ctx.state.svc) },
    });
  },
});
