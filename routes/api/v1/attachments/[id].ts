import { define } from "../../../../lib/state.ts";
import { attachmentResponse } from "../../../../lib/http/attachment.ts";

export const handler = define.handlers({
  GET(ctx) {
    return attachmentResponse(ctx.state.svc.kv, ctx.params.id, ctx.req);
  },
});
