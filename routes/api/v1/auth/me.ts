import { define } from "../../../../lib/state.ts";
import { json } from "../../../../lib/http/validate.ts";
import { assertSignedIn } from "../../../../lib/auth/guard.ts";

export const handler = define.handlers({
  GET(ctx) {
    assertSignedIn(ctx.state);
    return json({ user: ctx.state.user });
  },
});
