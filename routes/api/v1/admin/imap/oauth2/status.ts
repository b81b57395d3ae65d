/** GET /api/v1/admin/imap/oauth2/status — connection state; never a token. */
import { define } from "../../../../../../lib/state.ts";
import { json } from "../../../../../../lib/http/validate.ts";
import { oauth2Status } from "../../../../../../lib/mail/oauth2.ts";

export const handler = define.handlers({
  async GET(ctx) {
    return json(await oauth2Status(ctx.state.svc), 200, { "cache-control": "no-store" });
  },
});
