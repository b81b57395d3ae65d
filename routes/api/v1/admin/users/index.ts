import { define } from "../../../../../lib/state.ts";
import { json, readJson } from "../../../../../lib/http/validate.ts";
import { createUser, listUsers, publicUser } from "../../../../../lib/db/users.ts";
import { parseNewUser } from "../../../../../lib/auth/user_input.ts";

export const handler = define.handlers({
  async GET(ctx) {
    const users = (await listUsers(ctx.state.svc.kv)).map(publicUser);
    return json({ users });
  },
  async POST(ctx) {
    const input = parseNewUser(await readJson(ctx.req));
    const user = await createUser(ctx.state.svc.kv, input);
    return json({ user: publicUser(user) }, 201);
  },
});
