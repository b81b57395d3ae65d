import { define } from "../../../../lib/state.ts";
import { json } from "../../../../lib/http/validate.ts";
import { assertSignedIn } from "../../../../lib/auth/guard.ts";
import { inboxCounts } from "../../../../lib/db/inbox.ts";

export const handler = define.handlers({
  async GET(ctx) {
    assertSignedIn(ctx.state);
    return json(await inboxCounts(ctx.state.svc.kv, ctx.state.user.id));
  },
});
