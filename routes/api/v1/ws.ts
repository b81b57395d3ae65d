import { define } from "../../../lib/state.ts";
import { assertSignedIn } from "../../../lib/auth/guard.ts";
import { upgradeLive } from "../../../lib/live/upgrade.ts";

/** Live updates over WebSocket (API.md "Live updates"; docs/live-updates.md). */
export const handler = define.handlers({
  GET(ctx) {
    assertSignedIn(ctx.state);
    return upgradeLive(ctx.state.svc, ctx.req, ctx.state.user, ctx.state.sessionToken);
  },
});
