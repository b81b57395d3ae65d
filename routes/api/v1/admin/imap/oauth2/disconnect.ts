/** POST /api/v1/admin/imap/oauth2/disconnect — forget the tokens, IMAP auth back to plain. */
import { define } from "../../../../../../lib/state.ts";
import { disconnectOAuth2 } from "../../../../../../lib/mail/oauth2.ts";

export const handler = define.handlers({
  async POST(ctx) {
    await disconnectOAuth2(ctx.state.svc);
    return new Response(null, { status: 204 });
  },
});
