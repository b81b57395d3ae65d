import { define } from "../../../lib/state.ts";
import { page } from "../../../lib/fw/mod.ts";
import { assertSignedIn } from "../../../lib/auth/guard.ts";
import { listUsers, publicUser } from "../../../lib/db/users.ts";
import UserAdmin from "../../../islands/user_admin.tsx";

/** Admin → Users: everyone with an account; create agents, set roles, helpdesk access. */
export const handler = define.handlers({
  async GET(ctx) {
    assertSignedIn(ctx.state);
    const users = (await listUsers(ctx.state.svc.kv)).map(publicUser);
    return page({ title: "Users", users, meId: ctx.state.user.id });
  },
});

export default define.page<typeof handler>(({ data }) => (
  <div class="page">
    <UserAdmin users={data.users} meId={data.meId} />
  </div>
));
