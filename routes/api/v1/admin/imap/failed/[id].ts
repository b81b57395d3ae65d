import { define } from "../../../../../../lib/state.ts";
import { HttpError } from "../../../../../../lib/fw/mod.ts";
import { failedRawResponse } from "../../../../../../lib/mail/imap_api.ts";
import { deleteFailedMail } from "../../../../../../lib/mail/failed_mail.ts";

export const handler = define.handlers({
  /** The raw mail as kept, as a download. */
  GET(ctx) {
    return failedRawResponse(ctx.state.svc, ctx.params.id);
  },
  /** Dismiss the entry (and its raw copy). */
  async DELETE(ctx) {
    if (!(await deleteFailedMail(ctx.state.svc, ctx.params.id))) {
      throw new HttpError(404, "No such failed mail", "not_found");
    }
    return new Response(null, { status: 204 });
  },
});
