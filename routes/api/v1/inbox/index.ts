import { define } from "../../../../lib/state.ts";
import { fieldError, json } from "../../../../lib/http/validate.ts";
import { assertSignedIn } from "../../../../lib/auth/guard.ts";
import { listInbox } from "../../../../lib/db/inbox.ts";
import { INBOX_LIMIT_DEFAULT, INBOX_LIMIT_MAX } from "../../../../lib/db/limits.ts";

export const handler = define.handlers({
  async GET(ctx) {
    assertSignedIn(ctx.state);
    const q = ctx.url.searchParams;
    let limit = INBOX_LIMIT_DEFAULT;
    if (q.has("limit")) {
      const raw = q.get("limit")!;
      limit = Number(raw);
      if (!/^\d+$/.test(raw) || limit < 1 || limit > INBOX_LIMIT_MAX) {
        throw fieldError("limit", `must be an integer from 1 to ${INBOX_LIMIT_MAX}`);
      }
    }
    const page = await listInbox(ctx.state.svc.kv, ctx.state.user.id, {
      limit,
      cursor: q.get("cursor") ?? undefined,
    });
    return json(page);
  },
});
