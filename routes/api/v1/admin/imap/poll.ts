import { define } from "../../../../../lib/state.ts";
import { json } from "../../../../../lib/http/validate.ts";
import { pollNowView } from "../../../../../lib/mail/imap_api.ts";

export const handler = define.handlers({
  async POST(ctx) {
    return json(await pollNowView(ctx.state.svc));
  },
});
