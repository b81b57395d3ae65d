import { define } from "../../../../../lib/state.ts";
import { json, readJson } from "../../../../../lib/http/validate.ts";
import { publicUser, updateUser } from "../../../../../lib/db/users.ts";
import { parseUserPatch } from "../../../../../lib/auth/user_input.ts";

export const handler = define.handlers({
  async PATCH(ctx) {
    const patch = parseUserPatch(await readJson(ctx.req));
    const user = await updateUser(ctx.state.svc.kv, ctx.params.id, patch);
    return json({ user: publicUser(user) });
  },
});
