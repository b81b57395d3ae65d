import { define } from "../../../../../../lib/state.ts";
import { json } from "../../../../../../lib/http/validate.ts";
import { listFailedMail } from "../../../../../../lib/mail/failed_mail.ts";

export const handler = define.handlers({
  async GET(ctx) {
    return json({ failed: await listFailedMail(ctx.state.svc) });
  },
});
