import { define } from "../../../../lib/state.ts";
import { field, json, readJson } from "../../../../lib/http/validate.ts";
import { login, sessionCookie } from "../../../../lib/auth/login.ts";

export const handler = define.handlers({
  async POST(ctx) {
    const body = await readJson(ctx.req);
    const email = field.string(body, "email", { required: true, max: 254 });
    const password = field.string(body, "password", { required: true, max: 1024, trim: false });
    const { user, token } = await login(ctx.state.svc, email, password, ctx.info);
    return json({ user }, 200, { "set-cookie": sessionCookie(ctx.state.svc, token) });
  },
});
